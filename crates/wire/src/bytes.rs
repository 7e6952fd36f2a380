//! Checked reads of native-endian integers at arbitrary (unaligned) offsets.
//! Every read names its field so a failure says what was short.

use crate::DecodeError;

/// Returns `len` bytes at `offset`, or a truncation error naming `what`.
pub fn slice<'a>(
    buf: &'a [u8],
    offset: usize,
    len: usize,
    what: &'static str,
) -> Result<&'a [u8], DecodeError> {
    let available = buf.len().saturating_sub(offset);
    // `offset > buf.len()` matters when `len` is 0: an empty slice past the end is still out.
    if available < len || offset > buf.len() {
        return Err(DecodeError::truncated(what, offset, len, available));
    }
    Ok(&buf[offset..offset + len])
}

fn array<const N: usize>(
    buf: &[u8],
    offset: usize,
    what: &'static str,
) -> Result<[u8; N], DecodeError> {
    let mut out = [0u8; N];
    out.copy_from_slice(slice(buf, offset, N, what)?);
    Ok(out)
}

/// Reads a native-endian u16.
pub fn u16_at(buf: &[u8], offset: usize, what: &'static str) -> Result<u16, DecodeError> {
    array(buf, offset, what).map(u16::from_ne_bytes)
}

/// Reads a native-endian u32.
pub fn u32_at(buf: &[u8], offset: usize, what: &'static str) -> Result<u32, DecodeError> {
    array(buf, offset, what).map(u32::from_ne_bytes)
}

/// Reads a native-endian i32.
pub fn i32_at(buf: &[u8], offset: usize, what: &'static str) -> Result<i32, DecodeError> {
    array(buf, offset, what).map(i32::from_ne_bytes)
}

/// Reads a native-endian u64.
pub fn u64_at(buf: &[u8], offset: usize, what: &'static str) -> Result<u64, DecodeError> {
    array(buf, offset, what).map(u64::from_ne_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unaligned_reads_and_truncation() {
        let buf = [0xffu8, 1, 0, 0, 0, 2];
        assert_eq!(
            u32_at(&buf, 1, "x").unwrap(),
            u32::from_ne_bytes([1, 0, 0, 0])
        );
        let err = u32_at(&buf, 3, "field").unwrap_err();
        assert_eq!(
            err.to_string(),
            "field at offset 3 is truncated: needs 4 bytes, 3 left"
        );
        assert!(u64_at(&buf, usize::MAX, "far").is_err());
    }
}
