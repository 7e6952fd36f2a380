//! Tracepoint decoding on arbitrary input: (1) the whole input as a raw
//! `sched_process_exec` record under the real Linux 6.18 layout; (2) the input split at its
//! first NUL into a tracefs `format` text and a raw record, the text parsed, the exec layout
//! resolved from it, and the record decoded through it and through every located field.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskwatch_wire::tracepoint::{self, ExecLayout, FieldKind};

/// `events/sched/sched_process_exec/format` on Linux 6.18.
const EXEC_FORMAT: &str = include_str!("../../testdata/tracepoint/sched_process_exec.format");

fuzz_target!(|data: &[u8]| {
    let real = tracepoint::parse_format(EXEC_FORMAT).expect("the real format parses");
    let real = ExecLayout::from_format(&real).expect("the real format has the exec fields");
    if let Ok(exec) = real.decode(data) {
        assert!(exec.filename.len() <= data.len() && !exec.filename.contains(&0));
    }

    let (text, raw) = match data.iter().position(|&b| b == 0) {
        Some(nul) => (&data[..nul], &data[nul + 1..]),
        None => (data, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(format) = tracepoint::parse_format(text) else {
        return;
    };
    for field in &format.fields {
        if field.kind != FieldKind::Plain {
            if let Ok(bytes) = tracepoint::located(raw, field.offset, field.kind, "fuzzed field") {
                assert!(bytes.len() <= raw.len());
            }
        }
    }
    if let Ok(layout) = ExecLayout::from_format(&format) {
        let _ = layout.decode(raw);
    }
});
