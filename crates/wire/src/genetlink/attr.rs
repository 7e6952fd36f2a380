//! Netlink attributes (`struct nlattr`): a checked walk over a stream of them and the encoder
//! requests use. A nest is walked by walking its payload; `NLA_F_NESTED` is noted, not needed.

use crate::bytes::{u16_at, u32_at};
use crate::netlink::align;
use crate::DecodeError;

/// Size of `struct nlattr`.
pub const HEADER_LEN: usize = 4;
/// `NLA_F_NESTED`: the payload is a nest. Optional: taskstats nests do not set it.
pub const NLA_F_NESTED: u16 = 1 << 15;
/// `NLA_F_NET_BYTEORDER`: the payload is big-endian.
pub const NLA_F_NET_BYTEORDER: u16 = 1 << 14;
/// `NLA_TYPE_MASK`: the bits of `nla_type` that are the type.
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);
/// The largest payload one attribute can carry (`nla_len` is 16 bits and counts the header).
pub const MAX_PAYLOAD: usize = u16::MAX as usize - HEADER_LEN;

/// One attribute of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute<'a> {
    /// `nla_type & NLA_TYPE_MASK`.
    pub kind: u16,
    /// `NLA_F_NESTED` was set.
    pub nested: bool,
    /// `NLA_F_NET_BYTEORDER` was set.
    pub net_byteorder: bool,
    /// The `nla_len - 4` bytes after the header, without padding.
    pub payload: &'a [u8],
    /// Offset of the attribute's header, counted as the walk was told (see
    /// [`Attributes::at_offset`]).
    pub offset: usize,
}

impl<'a> Attribute<'a> {
    /// Offset of the payload, on the same scale as `offset`.
    pub fn payload_offset(&self) -> usize {
        self.offset + HEADER_LEN
    }

    /// Walks the payload as a nest of attributes, whether or not `NLA_F_NESTED` is set.
    pub fn nest(&self) -> Attributes<'a> {
        attributes(self.payload).at_offset(self.payload_offset())
    }

    /// The payload as a native-endian u16 (extra bytes ignored); `what` names it in errors.
    pub fn u16(&self, what: &'static str) -> Result<u16, DecodeError> {
        u16_at(self.payload, 0, what).map_err(|e| self.shift(e))
    }

    /// The payload as a native-endian u32 (extra bytes ignored); `what` names it in errors.
    pub fn u32(&self, what: &'static str) -> Result<u32, DecodeError> {
        u32_at(self.payload, 0, what).map_err(|e| self.shift(e))
    }

    /// The payload up to its first NUL (all of it if there is none): a C string's bytes.
    pub fn c_str(&self) -> &'a [u8] {
        let end = self
            .payload
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.payload.len());
        &self.payload[..end]
    }

    fn shift(&self, mut e: DecodeError) -> DecodeError {
        e.offset += self.payload_offset();
        e
    }
}

/// Walks the attributes of one stream; yields an error once, then stops.
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    buf: &'a [u8],
    offset: usize,
    base: usize,
    failed: bool,
}

/// Iterates over the attributes packed in `buf` (each 4-byte aligned, as `NLA_ALIGN`).
///
/// An attribute whose `nla_len` is below 4 (a zero-length attribute would never advance) or
/// runs past `buf`, and 1 to 3 stray bytes at the end, are errors. The last attribute may
/// lack its padding.
pub fn attributes(buf: &[u8]) -> Attributes<'_> {
    Attributes {
        buf,
        offset: 0,
        base: 0,
        failed: false,
    }
}

impl<'a> Attributes<'a> {
    /// Reports offsets (of attributes and in errors) as if `buf` started at `base`: the
    /// stream's position in the datagram, say.
    pub fn at_offset(mut self, base: usize) -> Self {
        self.base = base;
        self
    }
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Result<Attribute<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.buf.len() {
            return None;
        }
        let rest = &self.buf[self.offset..];
        let at = self.base + self.offset;
        let result = match (u16_at(rest, 0, "nlattr.nla_len"), u16_at(rest, 2, "nlattr")) {
            (Ok(len), Ok(raw_kind)) => {
                let end = usize::from(len);
                if end < HEADER_LEN || end > rest.len() {
                    Err(DecodeError::bad_length(
                        "nlattr.nla_len",
                        at,
                        u32::from(len),
                    ))
                } else {
                    Ok(Attribute {
                        kind: raw_kind & NLA_TYPE_MASK,
                        nested: raw_kind & NLA_F_NESTED != 0,
                        net_byteorder: raw_kind & NLA_F_NET_BYTEORDER != 0,
                        payload: &rest[HEADER_LEN..end],
                        offset: at,
                    })
                }
            }
            _ => Err(DecodeError::truncated("nlattr", at, HEADER_LEN, rest.len())),
        };
        match &result {
            Ok(a) => self.offset += align(HEADER_LEN + a.payload.len()),
            Err(_) => self.failed = true,
        }
        Some(result)
    }
}

/// Appends one attribute, padded to 4 bytes, to `out`. A payload longer than
/// [`MAX_PAYLOAD`] is cut to that length: `nla_len` cannot say more.
pub fn emit(out: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let payload = &payload[..payload.len().min(MAX_PAYLOAD)];
    let len = HEADER_LEN + payload.len();
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(payload);
    out.resize(out.len() + align(len) - len, 0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Reason;

    fn collect(buf: &[u8]) -> Vec<Result<Attribute<'_>, DecodeError>> {
        attributes(buf).collect()
    }

    #[test]
    fn walks_padded_attributes_and_masks_flags() {
        let mut buf = Vec::new();
        emit(&mut buf, 2, b"TASKSTATS\0"); // 14 bytes + 2 padding
        emit(&mut buf, 1 | NLA_F_NESTED, &[1, 2, 3, 4]);
        assert_eq!(buf.len(), 24);
        let got: Vec<_> = attributes(&buf).collect::<Result<_, _>>().unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].kind, got[0].c_str()), (2, &b"TASKSTATS"[..]));
        assert_eq!((got[1].kind, got[1].nested, got[1].offset), (1, true, 16));
        assert_eq!(got[1].u32("x").unwrap(), u32::from_ne_bytes([1, 2, 3, 4]));
        assert_eq!(got[1].u16("x").unwrap(), u16::from_ne_bytes([1, 2]));
    }

    #[test]
    fn odd_length_attribute_is_followed_after_its_padding() {
        // nla_len 5 (one payload byte, three padding), then a u32 attribute.
        let buf = [5, 0, 7, 0, 0xaa, 0, 0, 0, 8, 0, 1, 0, 9, 0, 0, 0];
        let got: Vec<_> = attributes(&buf).collect::<Result<_, _>>().unwrap();
        assert_eq!(got[0].payload, &[0xaa]);
        assert_eq!((got[1].kind, got[1].offset), (1, 8));
        // The same attribute last, without its padding: fine.
        assert_eq!(collect(&buf[..5])[0].as_ref().unwrap().payload, &[0xaa]);
    }

    #[test]
    fn zero_short_and_overlong_lengths_are_errors_once() {
        for (buf, reason) in [
            (&[0u8, 0, 1, 0][..], Reason::BadLength(0)),
            (&[3, 0, 1, 0], Reason::BadLength(3)),
            (&[9, 0, 1, 0, 0, 0, 0, 0], Reason::BadLength(9)),
            (
                &[1, 0],
                Reason::Truncated {
                    needed: 4,
                    available: 2,
                },
            ),
        ] {
            let got = collect(buf);
            assert_eq!(got.len(), 1, "{buf:?}");
            let err = got[0].clone().unwrap_err();
            assert_eq!((err.offset, err.reason), (0, reason));
        }
        // A good attribute, then three stray bytes: one item, then one error, then nothing.
        let buf = [8, 0, 1, 0, 1, 0, 0, 0, 1, 2, 3];
        let mut it = attributes(&buf).at_offset(100);
        assert_eq!(it.next().unwrap().unwrap().offset, 100);
        let err = it.next().unwrap().unwrap_err();
        assert_eq!((err.what, err.offset), ("nlattr", 108));
        assert!(it.next().is_none());
    }

    #[test]
    fn nest_without_the_nested_flag() {
        let mut inner = Vec::new();
        emit(&mut inner, 1, &42u32.to_ne_bytes());
        let mut buf = Vec::new();
        emit(&mut buf, 4, &inner); // no NLA_F_NESTED, as taskstats sends it
        let outer = attributes(&buf).next().unwrap().unwrap();
        assert!(!outer.nested);
        let pid = outer.nest().next().unwrap().unwrap();
        assert_eq!((pid.kind, pid.offset), (1, 4));
        assert_eq!(pid.u32("pid").unwrap(), 42);
        let err = Attribute {
            payload: &[1, 2],
            ..pid
        }
        .u32("pid")
        .unwrap_err();
        assert_eq!((err.what, err.offset), ("pid", 8));
    }

    #[test]
    fn emit_pads_and_caps() {
        let mut out = Vec::new();
        emit(&mut out, 3, b"0-1\0");
        assert_eq!(out, [8, 0, 3, 0, b'0', b'-', b'1', 0]);
        let mut out = Vec::new();
        emit(&mut out, 3, &vec![b'0'; 70_000]);
        assert_eq!(out.len(), align(u16::MAX as usize));
        let a = attributes(&out).next().unwrap().unwrap();
        assert_eq!(a.payload.len(), MAX_PAYLOAD);
    }
}
