//! The connector header (`struct cn_msg`) that follows the netlink header on
//! `NETLINK_CONNECTOR` sockets, and the proc connector's callback id.

use crate::bytes::{u16_at, u32_at};
use crate::DecodeError;

/// Size of `struct cn_msg` without its data.
pub const HEADER_LEN: usize = 20;
/// `CN_IDX_PROC`: the proc connector's index (and multicast group).
pub const CN_IDX_PROC: u32 = 0x1;
/// `CN_VAL_PROC`.
pub const CN_VAL_PROC: u32 = 0x1;

/// `struct cn_msg` without its trailing data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    /// `id.idx`: which connector (1 = proc).
    pub idx: u32,
    /// `id.val`.
    pub val: u32,
    /// Sequence number; for proc events a per-CPU counter.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Length of the data that follows.
    pub len: u16,
    /// Flags (unused by the proc connector).
    pub flags: u16,
}

impl Header {
    /// Decodes a `cn_msg` header at the start of `buf`.
    pub fn parse(buf: &[u8]) -> Result<Self, DecodeError> {
        Ok(Header {
            idx: u32_at(buf, 0, "cn_msg.id.idx")?,
            val: u32_at(buf, 4, "cn_msg.id.val")?,
            seq: u32_at(buf, 8, "cn_msg.seq")?,
            ack: u32_at(buf, 12, "cn_msg.ack")?,
            len: u16_at(buf, 16, "cn_msg.len")?,
            flags: u16_at(buf, 18, "cn_msg.flags")?,
        })
    }

    /// Appends the header's bytes to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        for v in [self.idx, self.val, self.seq, self.ack] {
            out.extend_from_slice(&v.to_ne_bytes());
        }
        out.extend_from_slice(&self.len.to_ne_bytes());
        out.extend_from_slice(&self.flags.to_ne_bytes());
    }
}

/// A connector message: header plus the data it announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// The `cn_msg` header.
    pub header: Header,
    /// `header.len` bytes of data.
    pub data: &'a [u8],
}

impl<'a> Message<'a> {
    /// Decodes a connector message from a netlink payload; `data` must fit in `payload`.
    pub fn parse(payload: &'a [u8]) -> Result<Self, DecodeError> {
        let header = Header::parse(payload)?;
        let data = crate::bytes::slice(payload, HEADER_LEN, header.len as usize, "cn_msg.data")?;
        Ok(Message { header, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_short_data() {
        let h = Header {
            idx: CN_IDX_PROC,
            val: CN_VAL_PROC,
            seq: 5,
            ack: 6,
            len: 4,
            flags: 0,
        };
        let mut buf = Vec::new();
        h.emit(&mut buf);
        buf.extend_from_slice(&[1, 2, 3, 4]);
        let m = Message::parse(&buf).unwrap();
        assert_eq!(m.header, h);
        assert_eq!(m.data, &[1, 2, 3, 4]);
        assert_eq!(Message::parse(&buf[..22]).unwrap_err().what, "cn_msg.data");
    }
}
