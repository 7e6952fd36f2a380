//! `connector::Message::parse` on arbitrary netlink payloads: the data it returns is exactly
//! what the header announces, and the header re-emits to the input's bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskwatch_wire::connector;

fuzz_target!(|data: &[u8]| {
    let header = connector::Header::parse(data);
    let Ok(message) = connector::Message::parse(data) else {
        return;
    };
    assert_eq!(header, Ok(message.header));
    assert_eq!(message.data.len(), usize::from(message.header.len));
    assert_eq!(
        message.data,
        &data[connector::HEADER_LEN..][..message.data.len()]
    );
    let mut emitted = Vec::new();
    message.header.emit(&mut emitted);
    assert_eq!(emitted, data[..connector::HEADER_LEN]);
});
