//! The hex mask syntax of /proc/irq/N/smp_affinity and the workqueue cpumask ("3",
//! "ff,ffffffff"), read from the right the way the kernel's bitmap_parse reads it.
//!
//! Each comma- or whitespace-separated chunk is at most 8 hex digits (32 bits); a shorter
//! chunk gets leading zeros. Empty chunks ("1,,5", ",44", ",", "") are allowed. The text
//! ends at NUL or the first newline.

use super::error::CpuListError;
use super::list::{garbage, is_separator};
use super::set::{CpuSet, MAX_CPUS};

/// Parses a hex CPU mask with room for [`MAX_CPUS`] CPUs, as for text read from /proc.
pub fn parse_mask(text: &str) -> Result<CpuSet, CpuListError> {
    parse_mask_bounded(text, MAX_CPUS)
}

/// Parses a hex CPU mask against an `nbits`-bit bitmap, exactly as the kernel's
/// `bitmap_parse(text, UINT_MAX, mask, nbits)`: more chunks than `nbits` needs, or a set
/// bit at or above `nbits`, is [`CpuListError::MaskTooWide`].
///
/// One quirk is kept: after a chunk of 8 digits the kernel consumes the next character
/// without looking at it unless it is a hex digit, so "x12345678" reads as 0x12345678.
pub fn parse_mask_bounded(text: &str, nbits: u32) -> Result<CpuSet, CpuListError> {
    let bytes = text.as_bytes();
    let stop = bytes
        .iter()
        .position(|&c| c == 0 || c == b'\n')
        .unwrap_or(bytes.len());
    let total_chunks = nbits.div_ceil(32) as usize;
    let mut chunks: Vec<u32> = Vec::new();
    // `end` counts bytes still unread from the left: the next one is bytes[end - 1].
    let mut end = stop;
    loop {
        while end > 0 && is_separator(bytes[end - 1]) {
            end -= 1;
        }
        if end == 0 {
            break;
        }
        if chunks.len() == total_chunks {
            return Err(CpuListError::MaskTooWide { nbits });
        }
        let (value, rest) = chunk(text, end)?;
        chunks.push(value);
        end = rest;
    }
    let written_bits = chunks.len() as u64 * 32;
    if written_bits >= u64::from(nbits) {
        // The last chunk may run past nbits: those bits must be clear.
        let spare = (written_bits - u64::from(nbits)) as u32;
        if let Some(&top) = chunks.last() {
            if spare > 0 && top >> (32 - spare) != 0 {
                return Err(CpuListError::MaskTooWide { nbits });
            }
        }
    }
    Ok(CpuSet::from_chunks32(&chunks)?)
}

/// bitmap_get_x32_reverse: up to 8 hex digits ending before `end`; the value and what is
/// left unread.
fn chunk(text: &str, mut end: usize) -> Result<(u32, usize), CpuListError> {
    let bytes = text.as_bytes();
    let mut value = 0u32;
    for shift in (0..32).step_by(4) {
        let at = end - 1;
        let digit = hex_digit(bytes[at]).ok_or_else(|| garbage(text, at, "a hex digit or ','"))?;
        value |= digit << shift;
        end -= 1;
        if end == 0 || is_separator(bytes[end - 1]) {
            return Ok((value, end));
        }
    }
    // Eight digits read and more text before them: a ninth digit overflows the chunk;
    // anything else is consumed unchecked, as in the kernel.
    if hex_digit(bytes[end - 1]).is_some() {
        return Err(CpuListError::MaskChunkTooLong { position: end - 1 });
    }
    Ok((value, end - 1))
}

fn hex_digit(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}
