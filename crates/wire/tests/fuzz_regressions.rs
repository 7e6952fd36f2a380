//! Inputs the fuzz targets (fuzz/fuzz_targets) found to crash a decoder, pinned as tests
//! named after the bug so it stays fixed.

use taskwatch_wire::bytes;
use taskwatch_wire::error::Reason;
use taskwatch_wire::tracepoint::{self, ExecLayout, FieldKind};

/// `tracepoint_format` found: a `__data_loc` of length 0 pointing past the record made
/// `bytes::slice` index out of range (`range start index 4242 out of range for slice of
/// length 30`) instead of returning an error.
#[test]
fn zero_length_slice_past_the_end_is_an_error_not_a_panic() {
    let buf = [1u8, 2, 3];
    assert_eq!(bytes::slice(&buf, 3, 0, "end").unwrap(), &[] as &[u8]);
    let err = bytes::slice(&buf, 4, 0, "past").unwrap_err();
    assert_eq!((err.what, err.offset), ("past", 4));
    assert_eq!(
        err.reason,
        Reason::Truncated {
            needed: 0,
            available: 0
        }
    );
    assert!(bytes::slice(&buf, usize::MAX, 0, "far").is_err());

    // The record that found it: a located field whose u32 reads 4242 (offset 4242, length 0).
    let mut raw = vec![0u8; 30];
    raw[12..16].copy_from_slice(&4242u32.to_ne_bytes());
    for kind in [FieldKind::DataLoc, FieldKind::RelLoc] {
        let err = tracepoint::located(&raw, 12, kind, "parent_comm").unwrap_err();
        assert_eq!(err.what, "parent_comm");
    }

    // The same through the exec layout: filename of length 0 at offset 1000.
    let format = tracepoint::parse_format(include_str!(
        "../testdata/tracepoint/sched_process_exec.format"
    ))
    .unwrap();
    let layout = ExecLayout::from_format(&format).unwrap();
    let mut record = vec![0u8; 24];
    record[8..12].copy_from_slice(&1000u32.to_ne_bytes());
    assert_eq!(
        layout.decode(&record).unwrap_err().what,
        "sched_process_exec.filename"
    );
}
