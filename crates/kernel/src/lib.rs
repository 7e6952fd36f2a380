//! taskwatch's contact with the running kernel: proc connector and perf tracepoint
//! sockets, /proc and /sys reads. The only crate with unsafe code, fenced in `sys`.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod alloc_count;
pub mod capabilities;
pub mod clock;
pub mod connector;
pub mod cpus;
pub mod delayacct;
pub mod exec_trace;
pub mod exit_stats_source;
pub mod isolation;
pub mod namespaces;
pub mod netlink_drops;
pub mod probe;
pub mod procfs;
pub mod seq_tracker;
pub mod source;
mod sys;
pub mod task_control;
pub mod taskstats;
