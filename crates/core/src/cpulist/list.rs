//! The cpulist syntax, read the way the kernel's bitmap_parselist (lib/bitmap-str.c) reads
//! it, state for state, so that what it accepts and refuses, and with which errno, match.
//!
//! The grammar: regions separated by commas or whitespace (any number, leading and
//! trailing too). A region is `N`, `N-M`, `N-M:used/group` or `all[:used/group]`, where a
//! number is decimal digits or the letter `N` (the last bit). Parsing stops at NUL or at
//! a newline that ends a region ("0\n5" is {0}), but a newline between separators is
//! whitespace ("0,\n5" is {0, 5}). After a `:used/group` suffix the next region may start
//! without a separator ("0-3:1/2N" is {0, 2, last}): the kernel does not check there.

use super::error::CpuListError;
use super::set::{CpuSet, MAX_CPUS};

/// Parses a cpulist with room for [`MAX_CPUS`] CPUs, as for text read from /sys (where
/// the kernel printed it). `N` and `all` then reach CPU 8191: use [`parse_bounded`] with
/// the machine's nr_cpu_ids to read user input the way the kernel would.
pub fn parse(text: &str) -> Result<CpuSet, CpuListError> {
    Parser::new(text, MAX_CPUS, false).run()
}

/// Parses a cpulist against an `nbits`-bit bitmap, exactly as the kernel's
/// `bitmap_parselist(text, mask, nbits)`: for a cpumask `nbits` is nr_cpu_ids (kernel
/// 6.2 and later; NR_CPUS before, unless CONFIG_CPUMASK_OFFSTACK), CPUs at or above it
/// are [`CpuListError::OutOfRange`], and `N` means `nbits - 1`.
pub fn parse_bounded(text: &str, nbits: u32) -> Result<CpuSet, CpuListError> {
    Parser::new(text, nbits, true).run()
}

/// Region 9-38:4/10 is CPUs 9-12, 19-22, 29-32: `off` CPUs from every `group_len`.
struct Region {
    start: u32,
    end: u32,
    off: u32,
    group_len: u32,
    /// A ":used/group" suffix was written (else off and group_len are end + 1).
    pattern: bool,
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    nbits: u32,
    /// Whether `nbits` is the machine's bound (OutOfRange) or MAX_CPUS (TooLarge).
    bounded: bool,
}

/// A [`CpuListError::Garbage`] for the character holding byte `position` of `text` (at its
/// first byte), or for the end of the text.
pub(super) fn garbage(text: &str, position: usize, expected: &'static str) -> CpuListError {
    let start = (0..=position.min(text.len()))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    CpuListError::Garbage {
        position: start,
        found: text[start..].chars().next(),
        expected,
    }
}

/// The kernel's isspace(): the C whitespace characters and Latin-1 NBSP (0xa0).
pub(super) fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0xa0)
}

/// A region ends at whitespace or a comma.
pub(super) fn is_separator(c: u8) -> bool {
    is_space(c) || c == b','
}

/// The string ends at NUL (a shorter C string) or a newline.
fn is_end_of_str(c: u8) -> bool {
    c == 0 || c == b'\n'
}

fn is_end_of_region(c: u8) -> bool {
    is_separator(c) || is_end_of_str(c)
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, nbits: u32, bounded: bool) -> Self {
        Parser {
            text,
            bytes: text.as_bytes(),
            nbits,
            bounded,
        }
    }

    /// The byte at `i`, or NUL past the end (the C string's terminator).
    fn at(&self, i: usize) -> u8 {
        self.bytes.get(i).copied().unwrap_or(0)
    }

    fn garbage(&self, position: usize, expected: &'static str) -> CpuListError {
        garbage(self.text, position, expected)
    }

    fn run(&self) -> Result<CpuSet, CpuListError> {
        let mut set = CpuSet::new();
        let mut next = Some(0);
        while let Some(mut i) = next {
            // bitmap_find_region: skip separators; the end of the string ends the list.
            while is_separator(self.at(i)) {
                i += 1;
            }
            if is_end_of_str(self.at(i)) {
                break;
            }
            let (region, after) = self.region(i)?;
            self.check(&region)?;
            set_region(&region, &mut set)?;
            next = after;
        }
        Ok(set)
    }

    /// bitmap_parse_region: one region from `i`; the position to go on from, or `None`
    /// when the string ended with it.
    fn region(&self, mut i: usize) -> Result<(Region, Option<usize>), CpuListError> {
        let last_bit = self.nbits.wrapping_sub(1);
        let (start, end);
        if self.bytes.len() >= i + 3 && self.bytes[i..i + 3].eq_ignore_ascii_case(b"all") {
            (start, end) = (0, last_bit);
            i += 3;
        } else {
            let first;
            (first, i) = self.number(i)?;
            if is_end_of_region(self.at(i)) {
                return Ok(self.plain(first, first, i));
            }
            if self.at(i) != b'-' {
                return Err(self.garbage(i, "',' or '-'"));
            }
            let last;
            (last, i) = self.number(i + 1)?;
            (start, end) = (first, last);
        }
        if is_end_of_region(self.at(i)) {
            return Ok(self.plain(start, end, i));
        }
        if self.at(i) != b':' {
            return Err(self.garbage(i, "',' or ':'"));
        }
        let (off, j) = self.number(i + 1)?;
        if self.at(j) != b'/' {
            return Err(self.garbage(j, "'/'"));
        }
        let (group_len, k) = self.number(j + 1)?;
        let region = Region {
            start,
            end,
            off,
            group_len,
            pattern: true,
        };
        Ok((region, Some(k)))
    }

    /// A region without a ":used/group" suffix: every CPU from start to end.
    fn plain(&self, start: u32, end: u32, i: usize) -> (Region, Option<usize>) {
        let region = Region {
            start,
            end,
            off: end.wrapping_add(1),
            group_len: end.wrapping_add(1),
            pattern: false,
        };
        let next = if is_end_of_str(self.at(i)) {
            None
        } else {
            Some(i)
        };
        (region, next)
    }

    /// bitmap_getnum: `N` for the last bit, or decimal digits that fit in 32 bits.
    fn number(&self, i: usize) -> Result<(u32, usize), CpuListError> {
        if self.at(i) == b'N' {
            return Ok((self.nbits.wrapping_sub(1), i + 1));
        }
        let digits = self.bytes[i.min(self.bytes.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            return Err(self.garbage(i, "a CPU number"));
        }
        let mut value: u64 = 0;
        for &d in &self.bytes[i..i + digits] {
            value = value.saturating_mul(10).saturating_add(u64::from(d - b'0'));
        }
        let value =
            u32::try_from(value).map_err(|_| CpuListError::NumberTooLarge { position: i })?;
        Ok((value, i + digits))
    }

    /// bitmap_check_region, in the kernel's order: shape (EINVAL), then range (ERANGE).
    fn check(&self, r: &Region) -> Result<(), CpuListError> {
        if r.start > r.end {
            return Err(CpuListError::Backwards {
                first: r.start,
                last: r.end,
            });
        }
        if r.group_len == 0 || r.off > r.group_len {
            return Err(if r.pattern {
                CpuListError::BadGroup {
                    used: r.off,
                    group: r.group_len,
                }
            } else {
                CpuListError::WrapsAround { cpu: r.end }
            });
        }
        if r.end >= self.nbits {
            return Err(if self.bounded {
                CpuListError::OutOfRange {
                    cpu: r.end,
                    nr_cpu_ids: self.nbits,
                }
            } else {
                CpuListError::TooLarge { cpu: r.end }
            });
        }
        if r.end >= MAX_CPUS {
            return Err(CpuListError::TooLarge { cpu: r.end });
        }
        Ok(())
    }
}

/// bitmap_set_region: `off` CPUs at the start of every `group_len`, up to `end`. The
/// kernel's unsigned arithmetic wraps; every step visits a new CPU at or below `end`
/// (the walk would need `group_len` 0 to cycle), so this ends within end + 1 steps.
fn set_region(r: &Region, set: &mut CpuSet) -> Result<(), CpuListError> {
    let mut start = r.start;
    while start <= r.end {
        set.insert_run(start, (r.end - start + 1).min(r.off))?;
        start = start.wrapping_add(r.group_len);
    }
    Ok(())
}
