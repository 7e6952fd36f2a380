//! A task as taskwatch knows it: identity, parentage, names and credentials.
//! Built from events and /proc snapshots; a pid could disappear at any time and be replaced.

use std::fmt;
use std::sync::Arc;

use crate::exit_stats::ExitStats;

pub use taskwatch_wire::proc_event::Ids;

/// A task's comm: at most 15 bytes, stored inline so copying it never allocates.
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Comm {
    bytes: [u8; 16],
    len: u8,
}

impl Comm {
    /// Builds a comm from raw bytes, keeping what the kernel would: up to the first NUL,
    /// at most 15 bytes.
    pub fn new(raw: &[u8]) -> Self {
        let end = raw
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(raw.len())
            .min(15);
        let mut bytes = [0u8; 16];
        bytes[..end].copy_from_slice(&raw[..end]);
        Comm {
            bytes,
            len: end as u8,
        }
    }

    /// The comm the kernel sets at exec: the last path component of the filename.
    pub fn from_exec_path(path: &[u8]) -> Self {
        let base = match path.iter().rposition(|&b| b == b'/') {
            Some(i) => &path[i + 1..],
            None => path,
        };
        Comm::new(base)
    }

    /// The comm bytes (no NUL).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// True when nothing is known.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Display for Comm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.as_bytes()))
    }
}

impl fmt::Debug for Comm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

/// A command line as /proc/PID/cmdline gives it: arguments separated by NUL bytes.
/// Kept as one shared buffer so an exec costs a single allocation.
#[derive(Clone, PartialEq, Eq)]
pub struct Argv(Arc<[u8]>);

impl Argv {
    /// Wraps raw cmdline bytes (a trailing NUL is dropped).
    pub fn from_cmdline(raw: &[u8]) -> Self {
        let trimmed = raw.strip_suffix(&[0]).unwrap_or(raw);
        Argv(Arc::from(trimmed))
    }

    /// The arguments, in order.
    pub fn args(&self) -> impl Iterator<Item = &[u8]> {
        let empty = self.0.is_empty();
        self.0.split(|&b| b == 0).filter(move |_| !empty)
    }

    /// The raw NUL-separated bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Argv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.args().map(String::from_utf8_lossy))
            .finish()
    }
}

/// Real and effective user and group ids (initial user namespace).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Creds {
    /// Real uid.
    pub ruid: u32,
    /// Effective uid.
    pub euid: u32,
    /// Real gid.
    pub rgid: u32,
    /// Effective gid.
    pub egid: u32,
}

/// What /proc says about one task at one moment; the probe's answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskSnapshot {
    /// Thread id.
    pub pid: u32,
    /// Thread-group (process) id.
    pub tgid: u32,
    /// Parent process id (of the thread group).
    pub ppid: u32,
    /// Start time in nanoseconds since boot, at clock-tick resolution.
    pub start_ns: u64,
    /// Comm.
    pub comm: Comm,
    /// Executable path, when readable.
    pub exe: Option<Arc<str>>,
    /// Command line, when readable (kernel threads have none).
    pub argv: Option<Argv>,
    /// Credentials, when readable.
    pub creds: Option<Creds>,
}

/// A task in the process table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Thread id.
    pub pid: u32,
    /// Thread-group (process) id.
    pub tgid: u32,
    /// Parent process id; updated when the parent exits and the task is reparented.
    pub ppid: u32,
    /// Start: the fork event's timestamp, or /proc's start time for tasks found at startup
    /// (monotonic nanoseconds since boot). With `pid` it identifies a lifetime.
    pub start_ns: u64,
    /// Current comm.
    pub comm: Comm,
    /// Executable path, when known.
    pub exe: Option<Arc<str>>,
    /// Command line, when known.
    pub argv: Option<Argv>,
    /// Credentials, when known.
    pub creds: Option<Creds>,
    /// The task existed before taskwatch started (found by the /proc bootstrap or a resync).
    pub preexisting: bool,
    /// The kernel's statistics, set from the exit event when they came with it.
    pub exit_stats: Option<Arc<ExitStats>>,
    /// Live child processes the table knows of (kept on the thread-group leader).
    pub(crate) children: u32,
}

impl Task {
    /// True for a thread that is not its process's leader.
    pub fn is_thread(&self) -> bool {
        self.pid != self.tgid
    }

    /// The task's ids.
    pub fn ids(&self) -> Ids {
        Ids {
            pid: self.pid,
            tgid: self.tgid,
        }
    }

    /// A stand-in for a task the table does not know (missed by a loss, or already gone).
    pub fn unknown(ids: Ids) -> Self {
        let nothing = TaskSnapshot {
            pid: ids.pid,
            tgid: ids.tgid,
            ..TaskSnapshot::default()
        };
        Task::from_snapshot(nothing, false)
    }

    /// Builds a table entry from a /proc snapshot.
    pub fn from_snapshot(s: TaskSnapshot, preexisting: bool) -> Self {
        Task {
            pid: s.pid,
            tgid: s.tgid,
            ppid: s.ppid,
            start_ns: s.start_ns,
            comm: s.comm,
            exe: s.exe,
            argv: s.argv,
            creds: s.creds,
            preexisting,
            exit_stats: None,
            children: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comm_is_truncated_like_the_kernel() {
        assert_eq!(
            Comm::new(b"0123456789abcdefgh").as_bytes(),
            b"0123456789abcde"
        );
        assert_eq!(Comm::from_exec_path(b"/usr/bin/true").as_bytes(), b"true");
        assert_eq!(Comm::from_exec_path(b"plain").as_bytes(), b"plain");
    }

    #[test]
    fn argv_splits_on_nul() {
        let a = Argv::from_cmdline(b"ls\0-l\0\0x\0");
        let args: Vec<&[u8]> = a.args().collect();
        assert_eq!(args, vec![&b"ls"[..], b"-l", b"", b"x"]);
        assert_eq!(Argv::from_cmdline(b"").args().count(), 0);
    }
}
