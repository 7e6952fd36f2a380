//! CPU sets and the kernel's cpulist syntax ("0-3,8,10-15:2/4"), parsed as strictly as
//! the kernel's bitmap_parselist, and checked against the machine's possible CPUs.
//!
//! - [`CpuSet`]: a bitmap of CPU numbers (up to [`MAX_CPUS`]) printed in the kernel's
//!   canonical list form, `0-3,8`.
//! - [`parse`] / [`parse_bounded`]: the list syntax of /sys/devices/system/cpu/online,
//!   `isolcpus=`, `taskset -c` and taskstats registration, accepting exactly what
//!   `bitmap_parselist()` (lib/bitmap-str.c) accepts, quirks included.
//! - [`parse_mask`] / [`parse_mask_bounded`]: the hex mask syntax of
//!   /proc/irq/N/smp_affinity ("ff,ffffffff"), as `bitmap_parse()` reads it.
//! - [`validate_for_taskstats`]: every check the kernel makes on
//!   TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, in the kernel's order, with errors that say
//!   what to change.

mod error;
mod list;
mod mask;
mod set;
mod taskstats;

pub use error::{CpuListError, CpuTooLarge, Errno};
pub use list::{parse, parse_bounded};
pub use mask::{parse_mask, parse_mask_bounded};
pub use set::{CpuSet, Iter, MAX_CPUS};
pub use taskstats::{taskstats_max_len, validate_for_taskstats};
