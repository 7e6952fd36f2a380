//! The one error every decoder returns: what was being read and where it went wrong.
//! Callers act on the offset and the name; the message is for people.

use std::fmt;

/// A decoding failure: `what` names the field, `offset` is its byte position in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The field or structure that could not be decoded.
    pub what: &'static str,
    /// Byte offset of that field in the buffer handed to the decoder.
    pub offset: usize,
    /// Why it failed.
    pub reason: Reason,
}

/// Why a decode failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The buffer ends before the field does.
    Truncated {
        /// Bytes the field needs from `offset`.
        needed: usize,
        /// Bytes left from `offset`.
        available: usize,
    },
    /// A length field is smaller than its own header or points past the buffer.
    BadLength(u32),
}

impl DecodeError {
    pub(crate) fn truncated(
        what: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    ) -> Self {
        DecodeError {
            what,
            offset,
            reason: Reason::Truncated { needed, available },
        }
    }

    pub(crate) fn bad_length(what: &'static str, offset: usize, len: u32) -> Self {
        DecodeError {
            what,
            offset,
            reason: Reason::BadLength(len),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            Reason::Truncated { needed, available } => write!(
                f,
                "{} at offset {} is truncated: needs {} bytes, {} left",
                self.what, self.offset, needed, available
            ),
            Reason::BadLength(len) => {
                write!(
                    f,
                    "{} at offset {} has an impossible length {}",
                    self.what, self.offset, len
                )
            }
        }
    }
}

impl std::error::Error for DecodeError {}
