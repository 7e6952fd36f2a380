//! Generic netlink (`NETLINK_GENERIC`): the `struct genlmsghdr` after the netlink header,
//! the attributes that follow it, and framing of a request as one datagram.

pub mod attr;
pub mod ctrl;

pub use attr::{attributes, Attribute, Attributes};

use crate::bytes::{slice, u16_at};
use crate::{netlink, DecodeError};

/// Size of `struct genlmsghdr`.
pub const HEADER_LEN: usize = 4;

/// `struct genlmsghdr`: which command of the family, and the family's interface version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    /// Family-specific command (`CTRL_CMD_*`, `TASKSTATS_CMD_*`).
    pub cmd: u8,
    /// Interface version of the family.
    pub version: u8,
    /// Reserved, 0 when sent by the kernel.
    pub reserved: u16,
}

impl Header {
    /// Decodes a header at the start of `buf`.
    pub fn parse(buf: &[u8]) -> Result<Self, DecodeError> {
        Ok(Header {
            cmd: u8_at(buf, 0, "genlmsghdr.cmd")?,
            version: u8_at(buf, 1, "genlmsghdr.version")?,
            reserved: u16_at(buf, 2, "genlmsghdr.reserved")?,
        })
    }

    /// Appends the header's bytes to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.push(self.cmd);
        out.push(self.version);
        out.extend_from_slice(&self.reserved.to_ne_bytes());
    }
}

/// Reads one byte (the checked reads of `bytes` start at two).
pub(crate) fn u8_at(buf: &[u8], offset: usize, what: &'static str) -> Result<u8, DecodeError> {
    Ok(slice(buf, offset, 1, what)?[0])
}

/// The payload of one generic netlink message: its header and its attribute bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// The `genlmsghdr`.
    pub header: Header,
    /// Everything after the header: the family's attributes (walk them with [`attributes`]).
    pub attributes: &'a [u8],
}

impl<'a> Message<'a> {
    /// Splits a netlink message payload into `genlmsghdr` and attributes.
    pub fn parse(payload: &'a [u8]) -> Result<Self, DecodeError> {
        let header = Header::parse(payload)?;
        Ok(Message {
            header,
            attributes: payload.get(HEADER_LEN..).unwrap_or_default(),
        })
    }
}

/// Frames one request: `nlmsghdr` (length computed) + `genlmsghdr` + `attributes`, which must
/// already be encoded and padded (see [`attr::emit`]).
pub fn request(
    family: u16,
    flags: u16,
    seq: u32,
    portid: u32,
    header: Header,
    attributes: &[u8],
) -> Vec<u8> {
    let total = netlink::HEADER_LEN + HEADER_LEN + attributes.len();
    let mut out = Vec::with_capacity(total);
    netlink::Header {
        len: total as u32,
        kind: family,
        flags,
        seq,
        pid: portid,
    }
    .emit(&mut out);
    header.emit(&mut out);
    out.extend_from_slice(attributes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_truncation() {
        let h = Header {
            cmd: 3,
            version: 1,
            reserved: 0,
        };
        let mut buf = Vec::new();
        h.emit(&mut buf);
        assert_eq!(buf, [3, 1, 0, 0]);
        assert_eq!(Header::parse(&buf).unwrap(), h);
        assert_eq!(
            Header::parse(&buf[..3]).unwrap_err().what,
            "genlmsghdr.reserved"
        );
        assert_eq!(Header::parse(&[]).unwrap_err().what, "genlmsghdr.cmd");
        let m = Message::parse(&[2, 1, 0, 0, 9, 9]).unwrap();
        assert_eq!((m.header.cmd, m.attributes), (2, &[9u8, 9][..]));
        assert_eq!(Message::parse(&buf).unwrap().attributes, &[] as &[u8]);
    }

    #[test]
    fn request_frames_header_and_attributes() {
        let mut attrs = Vec::new();
        attr::emit(&mut attrs, 1, &7u32.to_ne_bytes());
        let d = request(0x1f, 5, 9, 42, Header::default(), &attrs);
        assert_eq!(d.len(), 28);
        let m = netlink::messages(&d).next().unwrap().unwrap();
        assert_eq!((m.header.len, m.header.kind, m.header.seq), (28, 0x1f, 9));
        assert_eq!(Message::parse(m.payload).unwrap().attributes, &attrs[..]);
    }
}
