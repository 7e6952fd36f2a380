//! The event model: one lifecycle event as every watcher sees it, with the kernel's CPU
//! and monotonic timestamp. Built from proc connector messages plus what sources add.

use std::sync::Arc;

use taskwatch_wire::proc_event::{EventData, ProcEvent};

use crate::exit_stats::ExitStats;
use crate::exit_status::ExitStatus;
use crate::task::{Argv, Comm, Ids};

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// CPU the kernel reported it on (`NO_CPU` for synthetic events).
    pub cpu: u32,
    /// Kernel monotonic nanoseconds since boot.
    pub ts_ns: u64,
    /// What happened.
    pub kind: EventKind,
}

/// CPU value of events that did not come from a CPU (bootstrap, end-of-run accounting).
pub const NO_CPU: u32 = u32::MAX;

/// Where lost events were lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LossSource {
    /// The proc connector socket (sequence gaps or socket drops).
    ProcConnector,
    /// The exec tracepoint ring buffers (exe paths).
    ExecTrace,
    /// A queue inside taskwatch (a slow consumer).
    Queue,
    /// The taskstats listener shards (exit statistics).
    Taskstats,
}

impl LossSource {
    /// The name used in output (`"source"` in JSON).
    pub fn as_str(&self) -> &'static str {
        match self {
            LossSource::ProcConnector => "proc_connector",
            LossSource::ExecTrace => "exec_trace",
            LossSource::Queue => "queue",
            LossSource::Taskstats => "taskstats",
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A task appeared in the process table (new, or found at startup or resync).
    Init {
        /// The task.
        task: Ids,
    },
    /// A task was created. For threads, `parent` is the process's real parent.
    Fork {
        /// Parent ids.
        parent: Ids,
        /// Child ids.
        child: Ids,
    },
    /// A task executed a program.
    Exec {
        /// The task.
        task: Ids,
        /// The executed path (from the exec tracepoint, or /proc as a fallback).
        exe: Option<Arc<str>>,
        /// The command line, best effort.
        argv: Option<Argv>,
    },
    /// Real/effective uid change.
    Uid {
        /// The task.
        task: Ids,
        /// Real uid.
        ruid: u32,
        /// Effective uid.
        euid: u32,
    },
    /// Real/effective gid change.
    Gid {
        /// The task.
        task: Ids,
        /// Real gid.
        rgid: u32,
        /// Effective gid.
        egid: u32,
    },
    /// New session.
    Sid {
        /// The task.
        task: Ids,
    },
    /// Tracer attached (tracer ids non-zero) or detached (zeros).
    Ptrace {
        /// The traced task.
        task: Ids,
        /// The tracer.
        tracer: Ids,
    },
    /// Comm change.
    Comm {
        /// The task.
        task: Ids,
        /// The new comm.
        comm: Comm,
    },
    /// Core dump (sent even when no file is written).
    Coredump {
        /// The task.
        task: Ids,
        /// Its parent.
        parent: Ids,
    },
    /// Exit.
    Exit {
        /// The task.
        task: Ids,
        /// Decoded exit status.
        status: ExitStatus,
        /// Parent at exit.
        parent: Ids,
        /// The kernel's statistics (taskstats), when a listener delivered them.
        stats: Option<Arc<ExitStats>>,
    },
    /// A task left the process table.
    Free {
        /// The task.
        task: Ids,
    },
    /// A watcher denied a new task and it was killed.
    Denied {
        /// The task.
        task: Ids,
        /// The watcher that denied it.
        watcher: Arc<str>,
        /// Whether the kill succeeded.
        killed: bool,
    },
    /// Events were lost.
    Lost {
        /// How many.
        count: u64,
        /// Where.
        source: LossSource,
    },
}

impl EventKind {
    /// The task the event is about (the child for forks), if any.
    pub fn subject(&self) -> Option<Ids> {
        match *self {
            EventKind::Fork { child, .. } => Some(child),
            EventKind::Init { task }
            | EventKind::Exec { task, .. }
            | EventKind::Uid { task, .. }
            | EventKind::Gid { task, .. }
            | EventKind::Sid { task }
            | EventKind::Ptrace { task, .. }
            | EventKind::Comm { task, .. }
            | EventKind::Coredump { task, .. }
            | EventKind::Exit { task, .. }
            | EventKind::Free { task }
            | EventKind::Denied { task, .. } => Some(task),
            EventKind::Lost { .. } => None,
        }
    }

    /// The kind's table and name.
    pub fn kind(&self) -> Kind {
        match self {
            EventKind::Init { .. } => Kind::Init,
            EventKind::Fork { .. } => Kind::Fork,
            EventKind::Exec { .. } => Kind::Exec,
            EventKind::Uid { .. } => Kind::Uid,
            EventKind::Gid { .. } => Kind::Gid,
            EventKind::Sid { .. } => Kind::Sid,
            EventKind::Ptrace { .. } => Kind::Ptrace,
            EventKind::Comm { .. } => Kind::Comm,
            EventKind::Coredump { .. } => Kind::Coredump,
            EventKind::Exit { .. } => Kind::Exit,
            EventKind::Free { .. } => Kind::Free,
            EventKind::Denied { .. } => Kind::Denied,
            EventKind::Lost { .. } => Kind::Lost,
        }
    }

    /// True when the subject is a thread rather than a process (thread-group leader).
    pub fn is_thread(&self) -> bool {
        self.subject().is_some_and(|t| t.pid != t.tgid)
    }
}

/// Event kinds, one watcher table each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Task first seen.
    Init,
    /// fork/clone.
    Fork,
    /// exec.
    Exec,
    /// uid change.
    Uid,
    /// gid change.
    Gid,
    /// setsid.
    Sid,
    /// ptrace attach/detach.
    Ptrace,
    /// comm change.
    Comm,
    /// core dump.
    Coredump,
    /// exit.
    Exit,
    /// left the process table.
    Free,
    /// denied by a watcher.
    Denied,
    /// events lost.
    Lost,
}

impl Kind {
    /// Every kind, in a stable order.
    pub const ALL: [Kind; 13] = [
        Kind::Init,
        Kind::Fork,
        Kind::Exec,
        Kind::Uid,
        Kind::Gid,
        Kind::Sid,
        Kind::Ptrace,
        Kind::Comm,
        Kind::Coredump,
        Kind::Exit,
        Kind::Free,
        Kind::Denied,
        Kind::Lost,
    ];

    /// The lifecycle kinds a user selects with `--events` (the kernel's own kinds).
    pub const KERNEL: [Kind; 9] = [
        Kind::Fork,
        Kind::Exec,
        Kind::Uid,
        Kind::Gid,
        Kind::Sid,
        Kind::Ptrace,
        Kind::Comm,
        Kind::Coredump,
        Kind::Exit,
    ];

    /// The name used in output and on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Init => "init",
            Kind::Fork => "fork",
            Kind::Exec => "exec",
            Kind::Uid => "uid",
            Kind::Gid => "gid",
            Kind::Sid => "sid",
            Kind::Ptrace => "ptrace",
            Kind::Comm => "comm",
            Kind::Coredump => "coredump",
            Kind::Exit => "exit",
            Kind::Free => "free",
            Kind::Denied => "denied",
            Kind::Lost => "lost",
        }
    }

    /// Parses a name as `name()` gives it (also `clone` for fork).
    pub fn from_name(name: &str) -> Option<Kind> {
        if name == "clone" {
            return Some(Kind::Fork);
        }
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The proc connector's `PROC_EVENT_*` bit for kernel kinds.
    pub fn proc_event_bit(&self) -> Option<u32> {
        use taskwatch_wire::proc_event::what;
        Some(match self {
            Kind::Fork => what::FORK,
            Kind::Exec => what::EXEC,
            Kind::Uid => what::UID,
            Kind::Gid => what::GID,
            Kind::Sid => what::SID,
            Kind::Ptrace => what::PTRACE,
            Kind::Comm => what::COMM,
            Kind::Coredump => what::COREDUMP,
            Kind::Exit => what::EXIT,
            _ => return None,
        })
    }

    /// Index into per-kind arrays.
    pub fn index(&self) -> usize {
        *self as usize
    }
}

impl Event {
    /// Converts a decoded connector event. Acks and unknown kinds give `None`; exec
    /// paths and argv are added by the source afterwards.
    pub fn from_proc_event(ev: &ProcEvent) -> Option<Event> {
        let kind = match ev.data {
            EventData::Fork { parent, child } => EventKind::Fork { parent, child },
            EventData::Exec { task } => EventKind::Exec {
                task,
                exe: None,
                argv: None,
            },
            EventData::Uid { task, ruid, euid } => EventKind::Uid { task, ruid, euid },
            EventData::Gid { task, rgid, egid } => EventKind::Gid { task, rgid, egid },
            EventData::Sid { task } => EventKind::Sid { task },
            EventData::Ptrace { task, tracer } => EventKind::Ptrace { task, tracer },
            EventData::Comm { task, comm } => EventKind::Comm {
                task,
                comm: Comm::new(&comm),
            },
            EventData::Coredump { task, parent } => EventKind::Coredump { task, parent },
            EventData::Exit {
                task,
                exit_code,
                parent,
                ..
            } => EventKind::Exit {
                task,
                status: ExitStatus::from_wait_status(exit_code),
                parent,
                stats: None,
            },
            EventData::Ack { .. } | EventData::Unknown { .. } => return None,
        };
        Some(Event {
            cpu: ev.cpu,
            ts_ns: ev.timestamp_ns,
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_name(k.name()), Some(k));
            assert_eq!(Kind::ALL[k.index()], k);
        }
        assert_eq!(Kind::from_name("clone"), Some(Kind::Fork));
        assert_eq!(Kind::from_name("bogus"), None);
    }

    #[test]
    fn threads_are_told_apart() {
        let p = Ids { pid: 10, tgid: 10 };
        let t = Ids { pid: 11, tgid: 10 };
        assert!(EventKind::Fork {
            parent: p,
            child: t
        }
        .is_thread());
        assert!(!EventKind::Fork {
            parent: p,
            child: Ids { pid: 12, tgid: 12 }
        }
        .is_thread());
    }
}
