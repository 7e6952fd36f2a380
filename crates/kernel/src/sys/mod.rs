//! The syscalls taskwatch needs that no safe crate wraps; every unsafe block lives here
//! and carries a SAFETY comment. Callers outside see safe functions only.
#![allow(unsafe_code)]

pub mod affinity;
pub mod alloc_count;
pub mod caps;
pub mod clock;
pub mod eventfd;
pub mod memory;
pub mod perf;
pub mod pidfd;
pub mod seccomp;
pub mod socket;
pub mod spawn;
pub mod strict_trap;
