//! Why a cpulist or CPU mask was refused: one variant per kernel check, each naming the
//! errno the kernel would return and saying, in its message, what to change.

use std::fmt;

use super::set::{CpuSet, MAX_CPUS};

/// A CPU number at or above [`MAX_CPUS`], which no [`CpuSet`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTooLarge {
    /// The CPU number.
    pub cpu: u32,
}

impl fmt::Display for CpuTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CPU {} is out of range: Linux supports at most {MAX_CPUS} CPUs (0-{})",
            self.cpu,
            MAX_CPUS - 1
        )
    }
}

impl std::error::Error for CpuTooLarge {}

/// The error number the kernel returns for a refused cpulist or mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Errno {
    /// Argument list too long: the cpulist attribute is longer than the kernel copies.
    E2big,
    /// Invalid argument: bad syntax, or a CPU that is not possible.
    Einval,
    /// Result out of range: a CPU at or above nr_cpu_ids.
    Erange,
    /// Value too large: a number over 32 bits, or a mask wider than the bitmap.
    Eoverflow,
}

impl Errno {
    /// The C name: "E2BIG", "EINVAL", "ERANGE", "EOVERFLOW".
    pub fn name(self) -> &'static str {
        match self {
            Errno::E2big => "E2BIG",
            Errno::Einval => "EINVAL",
            Errno::Erange => "ERANGE",
            Errno::Eoverflow => "EOVERFLOW",
        }
    }

    /// The number in asm-generic/errno.h, used by x86, arm, arm64, riscv, s390, powerpc
    /// (mips, sparc, alpha and parisc number EOVERFLOW differently).
    pub fn code(self) -> i32 {
        match self {
            Errno::E2big => 7,
            Errno::Einval => 22,
            Errno::Erange => 34,
            Errno::Eoverflow => 75,
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a cpulist or hex mask was refused. Positions are byte offsets into the text,
/// counting from 0.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CpuListError {
    /// A character the syntax does not allow where it stands (EINVAL).
    Garbage {
        /// Byte offset of the character.
        position: usize,
        /// The character, or `None` when the text ended there.
        found: Option<char>,
        /// What the syntax allows at that point.
        expected: &'static str,
    },
    /// A range whose first CPU is above its last, like "5-3" (EINVAL).
    Backwards {
        /// The CPU before the '-'.
        first: u32,
        /// The CPU after the '-'.
        last: u32,
    },
    /// A ":used/group" suffix with a group of 0, or more CPUs used than the group has
    /// (EINVAL).
    BadGroup {
        /// CPUs used at the start of each group.
        used: u32,
        /// The group size.
        group: u32,
    },
    /// CPU 4294967295 named without a ":used/group" suffix: the kernel computes the group
    /// size as last + 1, which wraps to 0, and refuses it (EINVAL).
    WrapsAround {
        /// The CPU number, u32::MAX.
        cpu: u32,
    },
    /// A decimal number that does not fit in 32 bits (EOVERFLOW).
    NumberTooLarge {
        /// Byte offset of its first digit.
        position: usize,
    },
    /// A CPU at or above the bitmap size, which is nr_cpu_ids for a cpumask (ERANGE).
    OutOfRange {
        /// The highest CPU of the offending range.
        cpu: u32,
        /// The bitmap size the text was parsed against.
        nr_cpu_ids: u32,
    },
    /// A CPU at or above [`MAX_CPUS`], when no machine bound was given (ERANGE).
    TooLarge {
        /// The CPU number.
        cpu: u32,
    },
    /// A comma-separated chunk of a hex mask with more than 8 digits (EOVERFLOW).
    MaskChunkTooLong {
        /// Byte offset of the digit that does not fit.
        position: usize,
    },
    /// A hex mask with bits set beyond the bitmap size (EOVERFLOW).
    MaskTooWide {
        /// The bitmap size in bits.
        nbits: u32,
    },
    /// A taskstats cpulist longer than the kernel copies (E2BIG).
    TooLong {
        /// The length of the cpulist in bytes, without the terminating NUL.
        len: usize,
        /// The longest cpulist the kernel takes, without the NUL.
        max: usize,
        /// NR_CPUS, the kernel's configured CPU limit the maximum derives from.
        nr_cpus: u32,
    },
    /// A taskstats cpulist naming no CPU. The kernel accepts it and registers the socket
    /// for nothing, which is never what was meant.
    Empty,
    /// CPUs below nr_cpu_ids that the machine cannot have (EINVAL): the possible set has
    /// holes.
    NotPossible {
        /// The CPUs asked for that are not possible.
        cpus: CpuSet,
        /// The machine's possible CPUs.
        possible: CpuSet,
    },
}

impl CpuListError {
    /// The errno the kernel returns for this text, or `None` when the kernel would accept
    /// it ([`CpuListError::Empty`]).
    pub fn kernel_errno(&self) -> Option<Errno> {
        Some(match self {
            CpuListError::Garbage { .. }
            | CpuListError::Backwards { .. }
            | CpuListError::BadGroup { .. }
            | CpuListError::WrapsAround { .. }
            | CpuListError::NotPossible { .. } => Errno::Einval,
            CpuListError::OutOfRange { .. } | CpuListError::TooLarge { .. } => Errno::Erange,
            CpuListError::NumberTooLarge { .. }
            | CpuListError::MaskChunkTooLong { .. }
            | CpuListError::MaskTooWide { .. } => Errno::Eoverflow,
            CpuListError::TooLong { .. } => Errno::E2big,
            CpuListError::Empty => return None,
        })
    }
}

/// "0-1" for 2 CPUs, "0" for 1.
struct Numbered(u32);

impl fmt::Display for Numbered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("no CPUs"),
            1 => f.write_str("CPU 0"),
            n => write!(f, "CPUs 0-{}", n - 1),
        }
    }
}

impl fmt::Display for CpuListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CpuListError::Garbage {
                position,
                found: Some(c),
                expected,
            } => write!(
                f,
                "garbage {c:?} at position {position}: expected {expected}"
            ),
            CpuListError::Garbage {
                position,
                found: None,
                expected,
            } => write!(
                f,
                "text ends early at position {position}: expected {expected}"
            ),
            CpuListError::Backwards { first, last } => write!(
                f,
                "range {first}-{last} is backwards: write the lower CPU first ({last}-{first})"
            ),
            CpuListError::BadGroup { used, group: 0 } => write!(
                f,
                "group size 0 in ':{used}/0': the group size after '/' must be at least 1"
            ),
            CpuListError::BadGroup { used, group } => write!(
                f,
                "':{used}/{group}' uses {used} CPUs of every group of {group}: \
                 the number before '/' must be at most the one after"
            ),
            CpuListError::WrapsAround { cpu } => write!(
                f,
                "CPU {cpu} cannot be named in a cpulist (the kernel's range arithmetic \
                 wraps around): name a CPU below nr_cpu_ids"
            ),
            CpuListError::NumberTooLarge { position } => write!(
                f,
                "the number at position {position} does not fit in 32 bits: \
                 CPU numbers are below nr_cpu_ids"
            ),
            CpuListError::OutOfRange { cpu, nr_cpu_ids } => write!(
                f,
                "CPU {cpu} is out of range: this machine has {} (nr_cpu_ids {nr_cpu_ids})",
                Numbered(*nr_cpu_ids)
            ),
            CpuListError::TooLarge { cpu } => CpuTooLarge { cpu: *cpu }.fmt(f),
            CpuListError::MaskChunkTooLong { position } => write!(
                f,
                "hex digit at position {position} makes a chunk longer than 8 digits: \
                 separate every 32 bits with a comma, as in ff,ffffffff"
            ),
            CpuListError::MaskTooWide { nbits } => write!(
                f,
                "mask sets bits beyond the {nbits} this bitmap holds: drop the high digits"
            ),
            CpuListError::TooLong { len, max, nr_cpus } => write!(
                f,
                "cpulist is {len} bytes, the kernel accepts at most {max} here \
                 (100 + 6 × NR_CPUS {nr_cpus}, less the terminating NUL): \
                 write ranges (0-63) instead of single CPUs"
            ),
            CpuListError::Empty => f.write_str(
                "empty cpulist: name at least one CPU, e.g. 0 or 0-3 \
                 (the kernel would register for no CPU at all)",
            ),
            CpuListError::NotPossible { cpus, possible } => {
                let (noun, verb) = if cpus.len() == 1 {
                    ("CPU", "is")
                } else {
                    ("CPUs", "are")
                };
                write!(
                    f,
                    "{noun} {cpus} {verb} not possible on this machine: \
                     its possible CPUs are {possible}"
                )
            }
        }
    }
}

impl std::error::Error for CpuListError {}

impl From<CpuTooLarge> for CpuListError {
    fn from(e: CpuTooLarge) -> Self {
        CpuListError::TooLarge { cpu: e.cpu }
    }
}
