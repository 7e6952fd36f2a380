//! Safe handles on the system calls task isolation needs: CPU affinity, seccomp filters
//! and their notifications, pinned spawning, pidfds, memory locking, strict-mode traps.
//!
//! Thin re-exports of the `sys` wrappers; each function documents the man page it wraps.

pub use crate::sys::affinity::{
    affinity_of, current_cpu, pin_current_thread, set_current_thread_affinity,
};
pub use crate::sys::clock::monotonic_ns;
pub use crate::sys::memory::lock_all_memory;
pub use crate::sys::perf::{PerfRing, TracepointEvent};
pub use crate::sys::pidfd::{pidfd_open, pidfd_send_signal, PIDFD_THREAD};
pub use crate::sys::seccomp::{
    install_filter, BpfInstruction, Notification, NotifyListener, Readiness,
};
pub use crate::sys::spawn::{spawn_pinned, wait_for_exit, SpawnError, SpawnedChild};
pub use crate::sys::strict_trap::{arm as arm_strict_traps, HandlerCalls, StrictTraps};
