//! perf ring-buffer records (`struct perf_event_header` and what follows it), walked by a
//! checked iterator over bytes the caller already copied out of the ring and linearised.

use crate::bytes::{u16_at, u32_at, u64_at};
use crate::DecodeError;

/// Size of `struct perf_event_header`.
pub const HEADER_LEN: usize = 8;
/// `PERF_RECORD_LOST`: the kernel dropped records because the ring was full.
pub const PERF_RECORD_LOST: u32 = 2;
/// `PERF_RECORD_SAMPLE`: one sample, laid out as `attr.sample_type` asks.
pub const PERF_RECORD_SAMPLE: u32 = 9;
/// `PERF_SAMPLE_TIME`: the sample carries a u64 timestamp (ns, clock set by `clockid`).
pub const PERF_SAMPLE_TIME: u64 = 1 << 2;
/// `PERF_SAMPLE_RAW`: the sample carries the raw tracepoint record (u32 size, bytes).
pub const PERF_SAMPLE_RAW: u64 = 1 << 10;
/// The only `sample_type` whose samples [`records`] decodes: time, then raw data.
pub const SAMPLE_TYPE_TIME_RAW: u64 = PERF_SAMPLE_TIME | PERF_SAMPLE_RAW;

/// `struct perf_event_header`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    /// Record type: `PERF_RECORD_*`.
    pub kind: u32,
    /// `PERF_RECORD_MISC_*` bits (CPU mode, exactness, ...).
    pub misc: u16,
    /// Size of the record including this header.
    pub size: u16,
}

impl Header {
    /// Decodes a header at the start of `buf`.
    pub fn parse(buf: &[u8]) -> Result<Self, DecodeError> {
        Ok(Header {
            kind: u32_at(buf, 0, "perf_event_header.type")?,
            misc: u16_at(buf, 4, "perf_event_header.misc")?,
            size: u16_at(buf, 6, "perf_event_header.size")?,
        })
    }

    /// Appends the header's bytes to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.kind.to_ne_bytes());
        out.extend_from_slice(&self.misc.to_ne_bytes());
        out.extend_from_slice(&self.size.to_ne_bytes());
    }
}

/// A `PERF_RECORD_SAMPLE` of an event opened with `sample_type` = [`SAMPLE_TYPE_TIME_RAW`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawSample<'a> {
    /// `PERF_SAMPLE_TIME`, in ns of the event's clock.
    pub time: u64,
    /// `PERF_SAMPLE_RAW` bytes: the tracepoint record, followed by the kernel's padding to
    /// 8 bytes (so trust the tracepoint's own offsets, not this length).
    pub raw: &'a [u8],
}

/// `PERF_RECORD_LOST` (without `sample_id`, which needs `attr.sample_id_all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lost {
    /// Id of the event whose records were dropped.
    pub id: u64,
    /// How many records were dropped.
    pub lost: u64,
}

/// What one record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body<'a> {
    /// `PERF_RECORD_SAMPLE`.
    Sample(RawSample<'a>),
    /// `PERF_RECORD_LOST`.
    Lost(Lost),
    /// Any other record type, kept undecoded: the bytes after the header.
    Other(&'a [u8]),
}

/// One record of the ring: its header, its decoded body and where it sat in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// The decoded header.
    pub header: Header,
    /// The decoded body.
    pub body: Body<'a>,
    /// Offset of this record in the buffer given to [`records`], for error reports.
    pub offset: usize,
}

/// Walks ring records; yields an error once, then stops.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    buf: &'a [u8],
    offset: usize,
    failed: bool,
}

/// Iterates over the records packed in `buf`, bytes copied from a perf ring between
/// `data_tail` and `data_head` (records split by the ring's wrap already joined).
/// Samples are decoded for `sample_type` = [`SAMPLE_TYPE_TIME_RAW`] only.
pub fn records(buf: &[u8]) -> Records<'_> {
    Records {
        buf,
        offset: 0,
        failed: false,
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.buf.len() {
            return None;
        }
        let result = record_at(self.buf, self.offset);
        match &result {
            Ok(record) => self.offset += usize::from(record.header.size),
            Err(_) => self.failed = true,
        }
        Some(result)
    }
}

fn record_at(buf: &[u8], offset: usize) -> Result<Record<'_>, DecodeError> {
    let rest = &buf[offset..];
    let header = Header::parse(rest).map_err(|e| shift(e, offset))?;
    let size = usize::from(header.size);
    // A size below the header's own would make the walk stand still or go backwards.
    if size < HEADER_LEN || size > rest.len() {
        return Err(DecodeError::bad_length(
            "perf_event_header.size",
            offset + 6,
            u32::from(header.size),
        ));
    }
    let body = &rest[HEADER_LEN..size];
    let body_offset = offset + HEADER_LEN;
    let body = match header.kind {
        PERF_RECORD_SAMPLE => Body::Sample(parse_sample(body).map_err(|e| shift(e, body_offset))?),
        PERF_RECORD_LOST => Body::Lost(parse_lost(body).map_err(|e| shift(e, body_offset))?),
        _ => Body::Other(body),
    };
    Ok(Record {
        header,
        body,
        offset,
    })
}

fn parse_sample(body: &[u8]) -> Result<RawSample<'_>, DecodeError> {
    let time = u64_at(body, 0, "perf sample time")?;
    let raw_size = u32_at(body, 8, "perf sample raw size")?;
    let raw_start = 12;
    if raw_size as usize > body.len() - raw_start {
        return Err(DecodeError::bad_length("perf sample raw size", 8, raw_size));
    }
    Ok(RawSample {
        time,
        raw: &body[raw_start..raw_start + raw_size as usize],
    })
}

fn parse_lost(body: &[u8]) -> Result<Lost, DecodeError> {
    Ok(Lost {
        id: u64_at(body, 0, "perf lost id")?,
        lost: u64_at(body, 8, "perf lost count")?,
    })
}

fn shift(mut e: DecodeError, by: usize) -> DecodeError {
    e.offset += by;
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Reason;

    fn header(kind: u32, size: u16) -> Vec<u8> {
        let mut out = Vec::new();
        Header {
            kind,
            misc: 0,
            size,
        }
        .emit(&mut out);
        out
    }

    /// A sample as the kernel writes it: header, time, raw size (padded), raw bytes.
    fn sample(time: u64, raw: &[u8]) -> Vec<u8> {
        let padded = (4 + raw.len()).next_multiple_of(8) - 4;
        let mut out = header(PERF_RECORD_SAMPLE, (HEADER_LEN + 8 + 4 + padded) as u16);
        out.extend_from_slice(&time.to_ne_bytes());
        out.extend_from_slice(&(padded as u32).to_ne_bytes());
        out.extend_from_slice(raw);
        out.resize(out.len() + padded - raw.len(), 0);
        out
    }

    #[test]
    fn walks_sample_lost_and_unknown() {
        let mut buf = sample(123, b"abcdefg");
        buf.extend(header(PERF_RECORD_LOST, 24));
        buf.extend_from_slice(&7u64.to_ne_bytes()); // id
        buf.extend_from_slice(&42u64.to_ne_bytes()); // lost
        buf.extend(header(99, 12));
        buf.extend_from_slice(&[1, 2, 3, 4]);
        let got: Vec<_> = records(&buf).collect::<Result<_, _>>().unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].offset, 0);
        assert_eq!(got[0].header.size, 32);
        assert_eq!(
            got[0].body,
            Body::Sample(RawSample {
                time: 123,
                raw: b"abcdefg\0\0\0\0\0"
            })
        );
        assert_eq!(got[1].body, Body::Lost(Lost { id: 7, lost: 42 }));
        assert_eq!(got[2].header.kind, 99);
        assert_eq!(got[2].body, Body::Other(&[1, 2, 3, 4]));
        assert_eq!(got[2].offset, 56);
    }

    #[test]
    fn empty_input_yields_nothing() {
        assert_eq!(records(&[]).count(), 0);
    }

    #[test]
    fn zero_and_small_sizes_fail_once() {
        for size in [0u16, 1, 7] {
            let mut buf = header(PERF_RECORD_SAMPLE, size);
            buf.extend_from_slice(&[0; 32]);
            let mut walk = records(&buf);
            let err = walk.next().unwrap().unwrap_err();
            assert_eq!(err.what, "perf_event_header.size");
            assert_eq!(err.reason, Reason::BadLength(u32::from(size)));
            assert!(walk.next().is_none());
        }
    }

    #[test]
    fn size_past_the_end_fails() {
        let mut buf = sample(1, b"x");
        let second = buf.len();
        buf.extend(header(PERF_RECORD_LOST, 24));
        buf.extend_from_slice(&[0; 8]); // 8 of the 16 body bytes
        let results: Vec<_> = records(&buf).collect();
        assert_eq!(results.len(), 2);
        assert!(results[0].is_ok());
        let err = results[1].clone().unwrap_err();
        assert_eq!(err.offset, second + 6);
        assert_eq!(err.reason, Reason::BadLength(24));
    }

    #[test]
    fn truncated_header_is_reported_at_its_offset() {
        let mut buf = sample(1, b"x");
        buf.extend_from_slice(&[9, 0, 0]);
        let err = records(&buf).nth(1).unwrap().unwrap_err();
        assert_eq!(err.what, "perf_event_header.type");
        assert_eq!(err.offset, 24);
    }

    #[test]
    fn raw_size_past_the_record_fails() {
        let mut buf = sample(5, b"abc");
        buf[16..20].copy_from_slice(&100u32.to_ne_bytes());
        let err = records(&buf).next().unwrap().unwrap_err();
        assert_eq!(err.what, "perf sample raw size");
        assert_eq!(err.offset, 16);
        assert_eq!(err.reason, Reason::BadLength(100));
    }

    #[test]
    fn short_lost_body_is_truncated() {
        let mut buf = header(PERF_RECORD_LOST, 16);
        buf.extend_from_slice(&[0; 8]);
        let err = records(&buf).next().unwrap().unwrap_err();
        assert_eq!(err.what, "perf lost count");
        assert_eq!(err.offset, 16);
    }

    #[test]
    fn arbitrary_bytes_never_panic_or_loop() {
        // A cheap deterministic stand-in for the fuzzer: every prefix of a few patterns.
        let mut seed = 0x1234_5678u32;
        for _ in 0..2000 {
            let len = (seed % 64) as usize;
            let mut buf = Vec::with_capacity(len);
            for _ in 0..len {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                buf.push((seed >> 24) as u8);
            }
            let steps = records(&buf).take(len + 2).count();
            assert!(steps <= len / HEADER_LEN + 1);
        }
    }
}
