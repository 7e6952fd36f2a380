//! Arbitrary bytes from a client: split into lines with a small limit, each line parsed as
//! a request and a `register` resolved against a 4-CPU machine. Nothing may panic, and a
//! registration that resolves names only possible CPUs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskwatch_core::cpulist::CpuSet;
use taskwatch_server::interest::{FilterLimits, Interest};
use taskwatch_server::line_reader::{LineOutcome, LineReader};
use taskwatch_server::machine::Machine;
use taskwatch_server::protocol::{error_line, parse_request, Request};

fuzz_target!(|data: &[u8]| {
    let machine = Machine {
        nr_cpu_ids: 4,
        nr_cpus_config: 8,
        possible: CpuSet::from_cpus(0..4).unwrap(),
    };
    let mut reader = LineReader::new(4096);
    let mut outcomes = Vec::new();
    // Feed in uneven chunks, as reads would deliver them.
    for chunk in data.chunks(97) {
        reader.feed(chunk, &mut outcomes);
        assert!(reader.buffered() <= 4096);
    }
    for outcome in outcomes {
        let LineOutcome::Line(line) = outcome else {
            continue;
        };
        match parse_request(&line) {
            Ok((Request::Register(r), _)) => {
                match Interest::resolve(&r, &machine, FilterLimits { max_entries: 16 }) {
                    Ok(i) => assert!(i.cpus.is_subset(&machine.possible) && !i.cpus.is_empty()),
                    Err(e) => assert!(error_line(&e).ends_with(b"\n")),
                }
            }
            Ok(_) => {}
            Err(e) => assert!(error_line(&e).ends_with(b"\n")),
        }
    }
});
