//! Strict mode under `isolate run`: which threads are strict, with which signal, and
//! what happens on a violation — the signal through a pidfd and a report line.
//!
//! The report goes to stderr as `strict: pid 1234 cpu 1: syscall write(fd=1, count=6) at
//! +12.3 ms` (time since strict mode was armed for that thread).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use taskwatch_kernel::task_control::{monotonic_ns, pidfd_open, pidfd_send_signal, PIDFD_THREAD};

/// A strict thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrictThread {
    /// The flag word it gave prctl (0 for `--strict-after`).
    pub flags: u64,
    /// The signal a violation sends; None for the series' NOSIG.
    pub signal: Option<i32>,
    /// Its CPU.
    pub cpu: u32,
    /// CLOCK_MONOTONIC ns when strict mode was armed.
    pub armed_ns: u64,
}

/// One violation, as reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The thread.
    pub tid: u32,
    /// Its CPU.
    pub cpu: u32,
    /// What it did: `syscall write(fd=1, count=6)` or `page fault (...) at 0x...`.
    pub what: String,
    /// CLOCK_MONOTONIC ns when the violation was seen.
    pub seen_ns: u64,
    /// When the signal was sent (None when none was sent).
    pub signalled_ns: Option<u64>,
    /// The signal.
    pub signal: Option<i32>,
    /// Time since strict mode was armed.
    pub since_armed_ns: u64,
}

impl Violation {
    /// The stderr line, without newline.
    pub fn line(&self) -> String {
        format!(
            "strict: pid {} cpu {}: {} at +{:.1} ms",
            self.tid,
            self.cpu,
            self.what,
            self.since_armed_ns as f64 / 1e6
        )
    }
}

/// The strict threads of one run, shared by the seccomp supervisor and the monitor.
#[derive(Debug, Clone, Default)]
pub struct StrictRegistry {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    threads: HashMap<u32, StrictThread>,
    violations: Vec<Violation>,
}

impl StrictRegistry {
    /// Makes `tid` strict.
    pub fn arm(&self, tid: u32, thread: StrictThread) {
        self.lock().threads.insert(tid, thread);
    }

    /// Leaves strict mode for `tid`.
    pub fn disarm(&self, tid: u32) {
        self.lock().threads.remove(&tid);
    }

    /// `tid`'s strict state.
    pub fn get(&self, tid: u32) -> Option<StrictThread> {
        self.lock().threads.get(&tid).copied()
    }

    /// Whether any thread is strict (a cheap test before looking at faults).
    pub fn any(&self) -> bool {
        !self.lock().threads.is_empty()
    }

    /// Handles a violation by strict thread `tid`: signals it (the whole process for
    /// SIGKILL), prints the report, and takes it out of strict mode as the series does
    /// after a signal. Returns the violation, or None when `tid` is not strict.
    pub fn violate(&self, tid: u32, tgid: u32, what: String, seen_ns: u64) -> Option<Violation> {
        let thread = self.lock().threads.remove(&tid)?;
        let signalled_ns = thread.signal.and_then(|signal| {
            let (target, flags) = if signal == libc::SIGKILL {
                (tgid, 0)
            } else {
                (tid, PIDFD_THREAD)
            };
            let fd = pidfd_open(target, flags).ok()?;
            use std::os::fd::AsFd;
            pidfd_send_signal(fd.as_fd(), signal).ok()?;
            Some(monotonic_ns())
        });
        let violation = Violation {
            tid,
            cpu: thread.cpu,
            what,
            seen_ns,
            signalled_ns,
            signal: thread.signal,
            since_armed_ns: seen_ns.saturating_sub(thread.armed_ns),
        };
        eprintln!("{}", violation.line());
        self.lock().violations.push(violation.clone());
        Some(violation)
    }

    /// Every violation so far.
    pub fn violations(&self) -> Vec<Violation> {
        self.lock().violations.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere cannot leave the maps half-updated: take them as they are.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_violation_without_signal_is_reported_once_and_disarms() {
        let registry = StrictRegistry::default();
        registry.arm(
            4242,
            StrictThread {
                flags: 3,
                signal: None,
                cpu: 1,
                armed_ns: 1_000_000,
            },
        );
        assert!(registry.any());
        let v = registry
            .violate(
                4242,
                4242,
                "syscall write(fd=1, count=6)".into(),
                13_300_000,
            )
            .unwrap();
        assert_eq!(
            v.line(),
            "strict: pid 4242 cpu 1: syscall write(fd=1, count=6) at +12.3 ms"
        );
        assert_eq!(v.signalled_ns, None);
        assert!(registry.violate(4242, 4242, "again".into(), 0).is_none());
        assert!(!registry.any());
        assert_eq!(registry.violations().len(), 1);
    }
}
