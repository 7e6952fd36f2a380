//! `ProcProbe`: the core's `TaskProbe` on a live system — /proc snapshots, parent lookups,
//! and SIGKILL through a pidfd once the pid is shown to still name the task.

use std::io;
use std::os::fd::AsFd;

use taskwatch_core::probe::{KillError, TaskProbe};
use taskwatch_core::task::{Task, TaskSnapshot};

use crate::procfs::{tick_ns, ProcError, ProcReader};
use crate::sys::pidfd::{pidfd_open, pidfd_send_signal, PIDFD_THREAD};

/// How far a fork event's timestamp may be from /proc's start time of the same task.
pub const FORK_TIMESTAMP_TOLERANCE_NS: u64 = 20_000_000;

/// True when `recorded_ns` (a task's start as the table knows it) and `proc_start_ns` (its
/// start time read from /proc/PID/stat) can be the same task's start.
///
/// /proc truncates the start to clock ticks, so a start taken from /proc earlier matches
/// within 2 ticks. A fork event's timestamp is taken a little after the kernel records
/// the start (and /proc truncates downwards), so it matches within 20 ms. Both are
/// accepted; the wider one (20 ms at USER_HZ = 100, where they coincide) applies.
/// A recorded start of 0 means "unknown" and never matches.
pub fn same_start(recorded_ns: u64, proc_start_ns: u64, tick_ns: u64) -> bool {
    let tolerance = tick_ns.saturating_mul(2).max(FORK_TIMESTAMP_TOLERANCE_NS);
    recorded_ns != 0 && recorded_ns.abs_diff(proc_start_ns) <= tolerance
}

/// The live-system probe: reads /proc and kills through pidfds.
#[derive(Debug, Default)]
pub struct ProcProbe {
    reader: ProcReader,
}

impl ProcProbe {
    /// A probe with its own /proc read buffer.
    pub fn new() -> Self {
        ProcProbe {
            reader: ProcReader::new(),
        }
    }

    /// The reader behind the probe, for reads the trait does not offer.
    pub fn reader(&mut self) -> &mut ProcReader {
        &mut self.reader
    }
}

fn other(what: &str, e: impl std::fmt::Display) -> KillError {
    KillError::Other(format!("{what}: {e}"))
}

fn from_proc(e: ProcError) -> KillError {
    match e {
        ProcError::Gone => KillError::Gone,
        ProcError::PermissionDenied => KillError::PermissionDenied,
        e => other("reading /proc", e),
    }
}

fn from_signal(e: io::Error) -> KillError {
    match e.raw_os_error() {
        Some(libc::ESRCH) => KillError::Gone,
        Some(libc::EPERM) => KillError::PermissionDenied,
        _ => other("pidfd_send_signal", e),
    }
}

impl TaskProbe for ProcProbe {
    fn snapshot_all(&mut self) -> Vec<TaskSnapshot> {
        self.reader.snapshot_all().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot list /proc");
            Vec::new()
        })
    }

    fn snapshot(&mut self, pid: u32) -> Option<TaskSnapshot> {
        self.reader
            .snapshot(pid)
            .inspect_err(|e| log_miss(pid, e))
            .ok()
    }

    fn parent_of(&mut self, pid: u32) -> Option<u32> {
        self.reader
            .parent_of(pid)
            .inspect_err(|e| log_miss(pid, e))
            .ok()
    }

    /// Opens a pidfd for `task.pid` first, then checks through /proc that the pid still
    /// names `task`, then sends SIGKILL through the pidfd.
    ///
    /// Why this order is sound. A pidfd pins the task it was opened on, not its pid
    /// number: once that task is reaped the number is freed and can be handed to a new
    /// task even while the pidfd is open (seen on this kernel: a reused pid, and ESRCH
    /// from the old pidfd). What the pidfd guarantees is that a signal sent through it
    /// reaches the task it was opened on, or nobody (ESRCH after the reap). So the only
    /// question is whether the task it was opened on is `task`:
    /// - after opening, /proc/TGID/task/PID/stat is read; it resolves only while PID is a
    ///   thread of TGID, and its start time must match `task.start_ns` (see
    ///   [`same_start`]);
    /// - if it matches, `task` held the pid at that read. `task` was created before we
    ///   were asked to kill it, and a task keeps its pid from fork to reap (a pid is only
    ///   ever assigned at fork; a non-leader exec hands the leader's pid *and* start time
    ///   to the execing thread, the same process). So `task` held the pid throughout,
    ///   including at pidfd_open: the pidfd names `task`;
    /// - if `task` exits after the check, the signal finds its zombie (harmless) or fails
    ///   with ESRCH: never the pid's next owner.
    ///
    /// Checking before opening would leave a window (check, reap, reuse, open) in which
    /// the pidfd could name a stranger. The remaining risk is a stranger with the same
    /// pid *and* a start within the tolerance, i.e. the pid space (pid_max) cycling in
    /// ~20 ms: the allocator hands out pids cyclically.
    ///
    /// A thread is opened with PIDFD_THREAD (Linux 6.9); SIGKILL kills its whole process
    /// either way. A task whose start is unknown (0) is refused as `Gone`, as is one
    /// started before a system suspend when its start came from a fork event:
    /// fork timestamps are CLOCK_MONOTONIC, /proc's start time is CLOCK_BOOTTIME.
    fn kill(&mut self, task: &Task) -> Result<(), KillError> {
        let flags = if task.is_thread() { PIDFD_THREAD } else { 0 };
        let pidfd = pidfd_open(task.pid, flags).map_err(|e| match e.raw_os_error() {
            Some(libc::ESRCH) => KillError::Gone,
            // Without PIDFD_THREAD, EINVAL says the pid is now some non-leader thread.
            Some(libc::EINVAL) if flags == 0 => KillError::Gone,
            _ => other("pidfd_open", e),
        })?;
        let stat = self
            .reader
            .task_stat(task.tgid, task.pid)
            .map_err(from_proc)?;
        // A zombie leader whose threads still run is still a process worth killing.
        if stat.has_exited() && (task.is_thread() || stat.num_threads <= 1) {
            return Err(KillError::Gone);
        }
        let proc_start_ns = stat.start_ns(self.reader.clock_ticks_per_sec());
        if !same_start(task.start_ns, proc_start_ns, tick_ns()) {
            tracing::debug!(
                pid = task.pid,
                task.start_ns,
                proc_start_ns,
                "pid now names another task"
            );
            return Err(KillError::Gone);
        }
        pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL).map_err(from_signal)
    }
}

fn log_miss(pid: u32, e: &ProcError) {
    if !matches!(e, ProcError::Gone) {
        tracing::debug!(pid, error = %e, "/proc read failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: u64 = 10_000_000;

    #[test]
    fn start_times_match_within_tolerance() {
        let proc_ns = 310_840_000_000;
        // From /proc earlier: equal, or a tick apart.
        assert!(same_start(proc_ns, proc_ns, TICK));
        assert!(same_start(proc_ns + TICK, proc_ns, TICK));
        // A fork timestamp: after the truncated /proc value, within 20 ms.
        assert!(same_start(proc_ns + 12_345_678, proc_ns, TICK));
        assert!(!same_start(proc_ns + 20_000_001, proc_ns, TICK));
        assert!(!same_start(proc_ns - 20_000_001, proc_ns, TICK));
        // Unknown start never matches, not even a task started at boot.
        assert!(!same_start(0, 0, TICK));
        // A coarse clock widens the window to 2 ticks.
        assert!(same_start(proc_ns + 30_000_000, proc_ns, 16_000_000));
    }
}
