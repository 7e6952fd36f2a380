//! Generic netlink and taskstats decoders on arbitrary bytes: the datagram walk, attribute
//! walks, the controller reply and `Taskstats`; whatever decodes must emit and re-decode to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskwatch_wire::genetlink::{self, attributes, ctrl::Family};
use taskwatch_wire::taskstats::{self, parse_datagram, Message, Taskstats, KNOWN_LEN, MIN_LEN};

/// Every attribute takes at least 4 bytes; offsets grow; payloads lie inside the input.
fn walk(buf: &[u8], depth: u32) {
    let mut steps = 0;
    let mut last = None;
    for attr in attributes(buf) {
        steps += 1;
        assert!(steps <= buf.len() / genetlink::attr::HEADER_LEN + 1);
        let Ok(attr) = attr else { continue };
        assert!(last.is_none_or(|l| attr.offset > l));
        last = Some(attr.offset);
        assert!(attr.payload_offset() + attr.payload.len() <= buf.len());
        if depth < 3 {
            walk(attr.payload, depth + 1);
        }
    }
}

fn round_trip(stats: &Taskstats) {
    assert!(stats.len >= MIN_LEN && stats.len <= KNOWN_LEN);
    let mut emitted = Vec::new();
    stats.emit(&mut emitted);
    assert_eq!(emitted.len(), stats.len);
    assert_eq!(&Taskstats::parse(&emitted).expect("emitted struct re-parses"), stats);
    let _ = stats.delays();
}

fuzz_target!(|data: &[u8]| {
    // As a datagram of the family its first message claims to be.
    let family = data.get(4..6).map_or(0, |b| u16::from_ne_bytes([b[0], b[1]]));
    if let Ok(messages) = parse_datagram(data, family) {
        for message in messages {
            if let Message::Stats { records, .. } = message {
                for record in records {
                    round_trip(&record.stats);
                }
            }
        }
    }
    // The attributes of a one-message datagram, flat and nested, and as a controller reply.
    let attrs = data.get(20..).unwrap_or_default();
    walk(attrs, 0);
    let _ = taskstats::records(attrs, 20);
    let _ = Family::from_attributes(attrs, 20);
    let _ = Family::parse(data.get(16..).unwrap_or_default());
    // As a struct: whole, and where real datagrams put it.
    for payload in [data, data.get(36..).unwrap_or_default()] {
        match Taskstats::parse(payload) {
            Ok(stats) => round_trip(&stats),
            Err(e) => assert!(payload.len() < MIN_LEN, "{e}"),
        }
    }
});
