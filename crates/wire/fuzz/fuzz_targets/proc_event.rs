//! `ProcEvent::parse` on arbitrary bytes; whatever parses must emit and re-parse to itself,
//! and the emitted header must be the input's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskwatch_wire::proc_event::{self, ProcEvent};

fuzz_target!(|data: &[u8]| {
    let Ok(event) = ProcEvent::parse(data) else {
        return;
    };
    let mut emitted = Vec::new();
    event.emit(&mut emitted);
    assert_eq!(emitted.len(), proc_event::LEN);
    assert_eq!(
        emitted[..proc_event::HEADER_LEN],
        data[..proc_event::HEADER_LEN]
    );
    assert_eq!(
        ProcEvent::parse(&emitted).expect("emitted event re-parses"),
        event
    );
});
