//! Tracing one CPU: the tracepoints that reveal interruptions, decoded from perf rings,
//! and kernel symbols to name the functions they record.

pub mod events;
pub mod monitor;
pub mod symbols;
