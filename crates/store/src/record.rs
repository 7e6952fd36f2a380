//! The plain records the store keeps: one `Lifetime` per task from fork to exit, with the
//! `Change`s (uid, gid, sid, ptrace, comm) it went through. No kernel types: callers map.

use std::collections::BTreeMap;

/// One task's life, from fork to exit. A pid is reused: a lifetime is identified by
/// (`pid`, `start_ns`), never by the pid alone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lifetime {
    /// Task id (the thread id for a thread).
    pub pid: u32,
    /// Thread-group id: the process id (equal to `pid` for a process's main thread).
    pub tgid: u32,
    /// The parent at fork: the process that created it.
    pub ppid: u32,
    /// True for a thread other than its process's main thread.
    pub is_thread: bool,
    /// Real uid when it started.
    pub uid_start: u32,
    /// Real gid when it started.
    pub gid_start: u32,
    /// Real uid when it ended.
    pub uid_end: u32,
    /// Real gid when it ended.
    pub gid_end: u32,
    /// Fork time, wall-clock nanoseconds since the Unix epoch.
    pub start_ns: i64,
    /// Exit time, wall-clock nanoseconds since the Unix epoch.
    pub end_ns: i64,
    /// The last comm it had.
    pub comm: String,
    /// The executable of its last exec, when known.
    pub exe: Option<String>,
    /// The arguments of its last exec, when known.
    pub argv: Option<Vec<String>>,
    /// The exit code, when it called exit (exclusive with `signal`).
    pub exit_code: Option<i32>,
    /// The signal that ended it, when one did (exclusive with `exit_code`).
    pub signal: Option<i32>,
    /// A core dump was attempted.
    pub core_dumped: bool,
    /// The kernel's accounting at exit, when taskstats delivered it.
    pub stats: Option<TaskStats>,
    /// Credential, session, tracer and name changes during its life, oldest first.
    pub changes: Vec<Change>,
}

impl Lifetime {
    /// How long it lived, in nanoseconds (0 if the clock went backwards).
    pub fn lifetime_ns(&self) -> i64 {
        self.end_ns.saturating_sub(self.start_ns).max(0)
    }

    /// True when it exited non-zero or was killed by a signal.
    pub fn failed(&self) -> bool {
        self.exit_code.is_some_and(|code| code != 0) || self.signal.is_some()
    }
}

/// A lifetime as read back: its row id with the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLifetime {
    /// The row id (`lifetime.id`), stable for as long as retention keeps the row.
    pub id: i64,
    /// The record; `changes` is filled only when the query asked for them.
    pub lifetime: Lifetime,
}

/// The taskstats accounting of a task at exit (struct taskstats, units as the kernel's).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskStats {
    /// User CPU time, µs (ac_utime).
    pub utime_us: u64,
    /// System CPU time, µs (ac_stime).
    pub stime_us: u64,
    /// Minor page faults (ac_minflt).
    pub minflt: u64,
    /// Major page faults (ac_majflt).
    pub majflt: u64,
    /// Peak resident set, KiB (hiwater_rss).
    pub hiwater_rss_kb: u64,
    /// Peak virtual memory, KiB (hiwater_vm).
    pub hiwater_vm_kb: u64,
    /// Bytes read from storage (read_bytes).
    pub read_bytes: u64,
    /// Bytes written to storage (write_bytes).
    pub write_bytes: u64,
    /// Voluntary context switches (nvcsw).
    pub nvcsw: u64,
    /// Involuntary context switches (nivcsw).
    pub nivcsw: u64,
    /// Delay accounting by class name ("cpu", "blkio", "swapin", "freepages",
    /// "thrashing", "compact", "wpcopy", "irq", or any the kernel adds).
    pub delays: BTreeMap<String, Delay>,
}

/// One delay-accounting class: how many delays and their total length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Delay {
    /// Number of delays.
    pub count: u64,
    /// Sum of their lengths, ns.
    pub total_ns: u64,
}

/// Something that changed during a lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// When, wall-clock nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    /// What changed.
    pub kind: ChangeKind,
    /// The value before, when known.
    pub old: Option<ChangeValue>,
    /// The value after.
    pub new: ChangeValue,
}

/// What a `Change` is about; stored as its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// Real uid.
    Uid,
    /// Effective uid.
    Euid,
    /// Real gid.
    Gid,
    /// Effective gid.
    Egid,
    /// Session id (setsid).
    Sid,
    /// Tracer pid (0: detached).
    Ptrace,
    /// Task name.
    Comm,
}

impl ChangeKind {
    /// Every kind, in a stable order.
    pub const ALL: [ChangeKind; 7] = [
        ChangeKind::Uid,
        ChangeKind::Euid,
        ChangeKind::Gid,
        ChangeKind::Egid,
        ChangeKind::Sid,
        ChangeKind::Ptrace,
        ChangeKind::Comm,
    ];

    /// The name stored in `change.kind`.
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Uid => "uid",
            ChangeKind::Euid => "euid",
            ChangeKind::Gid => "gid",
            ChangeKind::Egid => "egid",
            ChangeKind::Sid => "sid",
            ChangeKind::Ptrace => "ptrace",
            ChangeKind::Comm => "comm",
        }
    }

    /// The kind stored under `name`, if any.
    pub fn from_name(name: &str) -> Option<ChangeKind> {
        ChangeKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A changed value: an id for credentials, sessions and tracers, text for a comm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeValue {
    /// A number (uid, gid, sid, tracer pid).
    Int(i64),
    /// Text (a comm).
    Text(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_kind_names_round_trip() {
        for kind in ChangeKind::ALL {
            assert_eq!(ChangeKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(ChangeKind::from_name("UID"), None);
    }

    #[test]
    fn failed_means_non_zero_or_signal() {
        let mut l = Lifetime {
            exit_code: Some(0),
            ..Lifetime::default()
        };
        assert!(!l.failed());
        l.exit_code = Some(3);
        assert!(l.failed());
        l.exit_code = None;
        assert!(!l.failed());
        l.signal = Some(9);
        assert!(l.failed());
    }
}
