//! The netlink message header (`struct nlmsghdr`) and a checked walk over the messages of
//! one datagram; also `struct nlmsgerr` for acknowledgements and errors.

use crate::bytes::{i32_at, u16_at, u32_at};
use crate::DecodeError;

/// Size of `struct nlmsghdr`.
pub const HEADER_LEN: usize = 16;
/// `NLMSG_NOOP`: nothing, skip it.
pub const NLMSG_NOOP: u16 = 1;
/// `NLMSG_ERROR`: an error or (error 0) an acknowledgement.
pub const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`: end of a dump; the connector also uses it for every message.
pub const NLMSG_DONE: u16 = 3;
/// `NLMSG_OVERRUN`: data lost (unused by Linux, kept for completeness).
pub const NLMSG_OVERRUN: u16 = 4;
/// `NLM_F_REQUEST`.
pub const NLM_F_REQUEST: u16 = 0x1;
/// `NLM_F_MULTI`.
pub const NLM_F_MULTI: u16 = 0x2;
/// `NLM_F_ACK`.
pub const NLM_F_ACK: u16 = 0x4;

/// Rounds `len` up to the 4-byte netlink alignment (`NLMSG_ALIGN`).
pub const fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// `struct nlmsghdr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    /// Length of the message including this header.
    pub len: u32,
    /// Message type: `NLMSG_*` or a family-specific type.
    pub kind: u16,
    /// `NLM_F_*` flags.
    pub flags: u16,
    /// Sequence number.
    pub seq: u32,
    /// Sending port id (0 for the kernel).
    pub pid: u32,
}

impl Header {
    /// Decodes a header at the start of `buf`.
    pub fn parse(buf: &[u8]) -> Result<Self, DecodeError> {
        Ok(Header {
            len: u32_at(buf, 0, "nlmsghdr.nlmsg_len")?,
            kind: u16_at(buf, 4, "nlmsghdr.nlmsg_type")?,
            flags: u16_at(buf, 6, "nlmsghdr.nlmsg_flags")?,
            seq: u32_at(buf, 8, "nlmsghdr.nlmsg_seq")?,
            pid: u32_at(buf, 12, "nlmsghdr.nlmsg_pid")?,
        })
    }

    /// Appends the header's bytes to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.len.to_ne_bytes());
        out.extend_from_slice(&self.kind.to_ne_bytes());
        out.extend_from_slice(&self.flags.to_ne_bytes());
        out.extend_from_slice(&self.seq.to_ne_bytes());
        out.extend_from_slice(&self.pid.to_ne_bytes());
    }
}

/// One message of a datagram: its header and its payload (without padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// The decoded header.
    pub header: Header,
    /// Bytes after the header, `header.len - HEADER_LEN` long.
    pub payload: &'a [u8],
    /// Offset of this message in the datagram, for error reports.
    pub offset: usize,
}

/// Walks the messages of one datagram; yields an error once, then stops.
#[derive(Debug, Clone)]
pub struct Messages<'a> {
    buf: &'a [u8],
    offset: usize,
    failed: bool,
}

/// Iterates over the netlink messages packed in `datagram`.
pub fn messages(datagram: &[u8]) -> Messages<'_> {
    Messages {
        buf: datagram,
        offset: 0,
        failed: false,
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<Message<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.buf.len() {
            return None;
        }
        let rest = &self.buf[self.offset..];
        let result = Header::parse(rest)
            .map_err(|e| shift(e, self.offset))
            .and_then(|header| {
                let len = header.len as usize;
                if len < HEADER_LEN || len > rest.len() {
                    return Err(DecodeError::bad_length(
                        "nlmsghdr.nlmsg_len",
                        self.offset,
                        header.len,
                    ));
                }
                Ok(Message {
                    header,
                    payload: &rest[HEADER_LEN..len],
                    offset: self.offset,
                })
            });
        match &result {
            Ok(m) => self.offset += align(m.header.len as usize).max(HEADER_LEN),
            Err(_) => self.failed = true,
        }
        Some(result)
    }
}

fn shift(mut e: DecodeError, by: usize) -> DecodeError {
    e.offset += by;
    e
}

/// `struct nlmsgerr`: the kernel's answer to a request with `NLM_F_ACK`, or an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorMessage {
    /// 0 for an acknowledgement, else a negative errno.
    pub error: i32,
    /// The header of the request this answers.
    pub request: Header,
}

impl ErrorMessage {
    /// Decodes the payload of an `NLMSG_ERROR` message.
    pub fn parse(payload: &[u8]) -> Result<Self, DecodeError> {
        let error = i32_at(payload, 0, "nlmsgerr.error")?;
        let request = Header::parse(&payload[4.min(payload.len())..]).map_err(|e| shift(e, 4))?;
        Ok(ErrorMessage { error, request })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_bytes(len: u32, kind: u16) -> Vec<u8> {
        let mut out = Vec::new();
        Header {
            len,
            kind,
            flags: 0,
            seq: 7,
            pid: 0,
        }
        .emit(&mut out);
        out
    }

    #[test]
    fn walks_aligned_messages() {
        let mut dgram = header_bytes(18, NLMSG_DONE);
        dgram.extend_from_slice(&[0xaa, 0xbb, 0, 0]); // 2 payload bytes + 2 padding
        dgram.extend(header_bytes(16, NLMSG_NOOP));
        let got: Vec<_> = messages(&dgram).collect::<Result<_, _>>().unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].payload, &[0xaa, 0xbb]);
        assert_eq!(got[1].header.kind, NLMSG_NOOP);
        assert_eq!(got[1].offset, 20);
    }

    #[test]
    fn bad_lengths_stop_the_walk() {
        for len in [0u32, 15, 100] {
            let dgram = header_bytes(len, NLMSG_DONE);
            let mut it = messages(&dgram);
            let err = it.next().unwrap().unwrap_err();
            assert_eq!(err.what, "nlmsghdr.nlmsg_len");
            assert!(it.next().is_none());
        }
        let err = messages(&[1, 2, 3]).next().unwrap().unwrap_err();
        assert_eq!(err.what, "nlmsghdr.nlmsg_len");
    }

    #[test]
    fn error_message_round_trip() {
        let mut payload = (-22i32).to_ne_bytes().to_vec();
        Header {
            len: 24,
            kind: 0x17,
            flags: NLM_F_REQUEST | NLM_F_ACK,
            seq: 9,
            pid: 42,
        }
        .emit(&mut payload);
        let e = ErrorMessage::parse(&payload).unwrap();
        assert_eq!(e.error, -22);
        assert_eq!(e.request.seq, 9);
        assert!(ErrorMessage::parse(&payload[..10]).is_err());
    }
}
