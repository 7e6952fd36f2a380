//! taskwatch's core: the event model, the watcher tables and their dispatch, and the
//! process table. No I/O: what the core needs from the system comes through `TaskProbe`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod probe;
pub mod task;
