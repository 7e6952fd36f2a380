//! Walks `perf::records` over arbitrary ring bytes: the walk advances, ends, and every
//! record and sample lies inside the input; headers re-emit to the input's bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskwatch_wire::perf::{self, Body};

fuzz_target!(|data: &[u8]| {
    let _ = perf::Header::parse(data);
    let mut next_offset = 0;
    let mut steps = 0;
    for record in perf::records(data) {
        steps += 1;
        assert!(steps <= data.len() / perf::HEADER_LEN + 1);
        let Ok(record) = record else { continue };
        assert_eq!(record.offset, next_offset);
        let size = usize::from(record.header.size);
        assert!(size >= perf::HEADER_LEN && record.offset + size <= data.len());
        next_offset = record.offset + size;
        let mut header = Vec::new();
        record.header.emit(&mut header);
        assert_eq!(
            header,
            data[record.offset..record.offset + perf::HEADER_LEN]
        );
        match record.body {
            Body::Sample(sample) => assert!(sample.raw.len() + 12 <= size - perf::HEADER_LEN),
            Body::Lost(_) => assert!(size >= perf::HEADER_LEN + 16),
            Body::Other(bytes) => assert_eq!(bytes.len(), size - perf::HEADER_LEN),
        }
    }
});
