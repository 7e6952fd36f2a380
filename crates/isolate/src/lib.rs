//! Task isolation on a stock kernel: run a program alone on a CPU and say what
//! interrupted it, the task isolation series' prctl ABI and strict mode, and a probe.
//!
//! - [`runner`]: `isolate run` — refuse an unsuitable CPU, pin, exec, supervise the
//!   prctl calls and strict mode through seccomp user notification, monitor the CPU.
//! - [`attribution`]: tracepoint records of the CPU turned into interruptions by cause.
//! - [`isolation`]: the library API, `isolation::enter(flags)`, for programs linking this.
//! - [`probe`]: an oslat-style busy loop whose gaps are joined with traced causes.
#![warn(missing_docs)]

pub mod attribution;
pub mod bpf;
pub mod flags;
pub mod isolation;
pub mod probe;
pub mod runner;
pub mod suitability;
pub mod trace;
