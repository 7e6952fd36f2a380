//! Kernel wire formats for taskwatch: netlink, the proc connector, tracepoint records.
//! Pure decoding and encoding; no I/O, no unsafe. Unknown kernel values are kept, never a panic.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bytes;
pub mod connector;
pub mod error;
pub mod genetlink;
pub mod listen;
pub mod netlink;
pub mod perf;
pub mod proc_event;
pub mod syscalls;
pub mod taskstats;
pub mod tracepoint;

pub use error::DecodeError;
