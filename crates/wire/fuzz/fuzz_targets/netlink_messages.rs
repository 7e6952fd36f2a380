//! Walks `netlink::messages` over arbitrary bytes and decodes every message every way a
//! listener might (connector + proc_event, nlmsgerr): errors are fine, panics and hangs not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskwatch_wire::netlink::{self, ErrorMessage};
use taskwatch_wire::{connector, proc_event::ProcEvent};

fuzz_target!(|data: &[u8]| {
    let mut last_offset = None;
    let mut steps = 0;
    for message in netlink::messages(data) {
        steps += 1;
        // Every message takes at least a header, plus at most one error at the end.
        assert!(steps <= data.len() / netlink::HEADER_LEN + 1);
        let Ok(message) = message else { continue };
        assert!(last_offset.is_none_or(|last| message.offset > last));
        last_offset = Some(message.offset);
        assert_eq!(
            message.payload.len() + netlink::HEADER_LEN,
            message.header.len as usize
        );
        if let Ok(cn) = connector::Message::parse(message.payload) {
            assert_eq!(cn.data.len(), usize::from(cn.header.len));
            let _ = ProcEvent::parse(cn.data);
        }
        let _ = ErrorMessage::parse(message.payload);
    }
});
