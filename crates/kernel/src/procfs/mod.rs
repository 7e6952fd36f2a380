//! /proc: task snapshots for bootstrap and resync, and the per-exec cmdline and exe reads.
//! Parsing (pure functions on the files' text) is kept apart from reading, procfs-style.
//!
//! A pid could disappear at any time and be replaced: a task that exited reads as
//! [`ProcError::Gone`], a normal outcome rather than a failure.

mod clock;
mod cmdline;
mod error;
mod exe;
mod path;
mod read;
mod reader;
mod scan;
mod stat;
mod status;

pub use clock::{clk_tck_from_auxv, clock_ticks_per_sec, tick_ns, ticks_to_ns};
pub use cmdline::{parse_cmdline, read_cmdline};
pub use error::{Malformed, ProcError};
pub use exe::{exe_from_link, read_exe, DELETED_SUFFIX};
pub use reader::ProcReader;
pub use stat::Stat;
pub use status::Status;
