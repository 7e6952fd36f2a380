//! `struct proc_event` from include/uapi/linux/cn_proc.h: one task lifecycle event as the
//! proc connector sends it. Every kind decodes; kinds this crate does not know are kept.

use crate::bytes::{i32_at, slice, u32_at, u64_at};
use crate::DecodeError;

/// Size of the fixed part: what, cpu, timestamp_ns.
pub const HEADER_LEN: usize = 16;
/// `sizeof(struct proc_event)` on the kernels we know (header + 24-byte union).
pub const LEN: usize = 40;

/// `enum proc_cn_event` values (`PROC_EVENT_*`).
pub mod what {
    /// `PROC_EVENT_NONE`: an acknowledgement of a LISTEN/IGNORE request.
    pub const NONE: u32 = 0x0000_0000;
    /// `PROC_EVENT_FORK`.
    pub const FORK: u32 = 0x0000_0001;
    /// `PROC_EVENT_EXEC`.
    pub const EXEC: u32 = 0x0000_0002;
    /// `PROC_EVENT_UID`.
    pub const UID: u32 = 0x0000_0004;
    /// `PROC_EVENT_GID`.
    pub const GID: u32 = 0x0000_0040;
    /// `PROC_EVENT_SID`.
    pub const SID: u32 = 0x0000_0080;
    /// `PROC_EVENT_PTRACE`.
    pub const PTRACE: u32 = 0x0000_0100;
    /// `PROC_EVENT_COMM`.
    pub const COMM: u32 = 0x0000_0200;
    /// `PROC_EVENT_NONZERO_EXIT`: a filter flag only, never sent.
    pub const NONZERO_EXIT: u32 = 0x2000_0000;
    /// `PROC_EVENT_COREDUMP`.
    pub const COREDUMP: u32 = 0x4000_0000;
    /// `PROC_EVENT_EXIT`.
    pub const EXIT: u32 = 0x8000_0000;
    /// Every event kind a filter may select (`PROC_EVENT_ALL`).
    pub const ALL: u32 = FORK | EXEC | UID | GID | SID | PTRACE | COMM | COREDUMP | EXIT;
}

/// A task as the kernel names it in events: thread id and thread-group id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ids {
    /// Thread id (`pid` in kernel terms).
    pub pid: u32,
    /// Thread-group id (the process id).
    pub tgid: u32,
}

/// The event-specific part of a `proc_event`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventData {
    /// Acknowledgement of a LISTEN/IGNORE request; `err` is a positive errno or 0.
    Ack {
        /// 0 on success.
        err: u32,
    },
    /// A task was created. For a new thread, `parent` is the process's real parent.
    Fork {
        /// The parent (for threads: the real parent of the process).
        parent: Ids,
        /// The new task.
        child: Ids,
    },
    /// A task executed a new program.
    Exec {
        /// The task.
        task: Ids,
    },
    /// Real or effective uid changed (values in the initial user namespace).
    Uid {
        /// The task.
        task: Ids,
        /// New real uid.
        ruid: u32,
        /// New effective uid.
        euid: u32,
    },
    /// Real or effective gid changed.
    Gid {
        /// The task.
        task: Ids,
        /// New real gid.
        rgid: u32,
        /// New effective gid.
        egid: u32,
    },
    /// The task started a new session.
    Sid {
        /// The task.
        task: Ids,
    },
    /// A tracer attached (tracer ids set) or detached (tracer ids 0).
    Ptrace {
        /// The traced task.
        task: Ids,
        /// The tracer; zeros on detach.
        tracer: Ids,
    },
    /// The task's comm changed.
    Comm {
        /// The task.
        task: Ids,
        /// New comm, NUL-padded.
        comm: [u8; 16],
    },
    /// The task dumped core (sent even when no core file is written).
    Coredump {
        /// The task.
        task: Ids,
        /// Its parent.
        parent: Ids,
    },
    /// The task exited.
    Exit {
        /// The task.
        task: Ids,
        /// Raw wait status (`task->exit_code`).
        exit_code: u32,
        /// Signal sent to the parent: 17 (SIGCHLD) for processes, -1 for threads.
        exit_signal: i32,
        /// The parent at exit time.
        parent: Ids,
    },
    /// A kind this crate does not know; the header fields still hold.
    Unknown {
        /// The raw `what`.
        what: u32,
    },
}

/// One decoded `struct proc_event`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcEvent {
    /// CPU the event happened on.
    pub cpu: u32,
    /// `ktime_get_ns()` at the event: monotonic nanoseconds since boot.
    pub timestamp_ns: u64,
    /// The event itself.
    pub data: EventData,
}

impl EventData {
    /// The `PROC_EVENT_*` value of this event.
    pub fn what(&self) -> u32 {
        match self {
            EventData::Ack { .. } => what::NONE,
            EventData::Fork { .. } => what::FORK,
            EventData::Exec { .. } => what::EXEC,
            EventData::Uid { .. } => what::UID,
            EventData::Gid { .. } => what::GID,
            EventData::Sid { .. } => what::SID,
            EventData::Ptrace { .. } => what::PTRACE,
            EventData::Comm { .. } => what::COMM,
            EventData::Coredump { .. } => what::COREDUMP,
            EventData::Exit { .. } => what::EXIT,
            EventData::Unknown { what } => *what,
        }
    }
}

const D: usize = HEADER_LEN;

fn ids(buf: &[u8], at: usize, pid: &'static str, tgid: &'static str) -> Result<Ids, DecodeError> {
    Ok(Ids {
        pid: u32_at(buf, at, pid)?,
        tgid: u32_at(buf, at + 4, tgid)?,
    })
}

impl ProcEvent {
    /// Decodes a `proc_event` from connector data. Only the bytes the kind needs must be
    /// present, so a shorter union from an older or stranger sender still decodes.
    pub fn parse(buf: &[u8]) -> Result<Self, DecodeError> {
        let what = u32_at(buf, 0, "proc_event.what")?;
        let cpu = u32_at(buf, 4, "proc_event.cpu")?;
        let timestamp_ns = u64_at(buf, 8, "proc_event.timestamp_ns")?;
        let task = || ids(buf, D, "proc_event.process_pid", "proc_event.process_tgid");
        let data = match what {
            what::NONE => EventData::Ack {
                err: u32_at(buf, D, "proc_event.ack.err")?,
            },
            what::FORK => EventData::Fork {
                parent: ids(
                    buf,
                    D,
                    "proc_event.fork.parent_pid",
                    "proc_event.fork.parent_tgid",
                )?,
                child: ids(
                    buf,
                    D + 8,
                    "proc_event.fork.child_pid",
                    "proc_event.fork.child_tgid",
                )?,
            },
            what::EXEC => EventData::Exec { task: task()? },
            what::UID => EventData::Uid {
                task: task()?,
                ruid: u32_at(buf, D + 8, "proc_event.id.ruid")?,
                euid: u32_at(buf, D + 12, "proc_event.id.euid")?,
            },
            what::GID => EventData::Gid {
                task: task()?,
                rgid: u32_at(buf, D + 8, "proc_event.id.rgid")?,
                egid: u32_at(buf, D + 12, "proc_event.id.egid")?,
            },
            what::SID => EventData::Sid { task: task()? },
            what::PTRACE => EventData::Ptrace {
                task: task()?,
                tracer: ids(
                    buf,
                    D + 8,
                    "proc_event.ptrace.tracer_pid",
                    "proc_event.ptrace.tracer_tgid",
                )?,
            },
            what::COMM => {
                let mut comm = [0u8; 16];
                comm.copy_from_slice(slice(buf, D + 8, 16, "proc_event.comm.comm")?);
                EventData::Comm {
                    task: task()?,
                    comm,
                }
            }
            what::COREDUMP => EventData::Coredump {
                task: task()?,
                parent: ids(
                    buf,
                    D + 8,
                    "proc_event.coredump.parent_pid",
                    "proc_event.coredump.parent_tgid",
                )?,
            },
            what::EXIT => EventData::Exit {
                task: task()?,
                exit_code: u32_at(buf, D + 8, "proc_event.exit.exit_code")?,
                exit_signal: i32_at(buf, D + 12, "proc_event.exit.exit_signal")?,
                parent: ids(
                    buf,
                    D + 16,
                    "proc_event.exit.parent_pid",
                    "proc_event.exit.parent_tgid",
                )?,
            },
            other => EventData::Unknown { what: other },
        };
        Ok(ProcEvent {
            cpu,
            timestamp_ns,
            data,
        })
    }

    /// Appends the kernel layout of this event (always `LEN` bytes, union zero-padded).
    /// `Unknown` events emit only their header and zeros.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let put = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&v.to_ne_bytes());
        put(out, self.data.what());
        put(out, self.cpu);
        out.extend_from_slice(&self.timestamp_ns.to_ne_bytes());
        let pair = |out: &mut Vec<u8>, i: Ids| {
            put(out, i.pid);
            put(out, i.tgid);
        };
        match self.data {
            EventData::Ack { err } => put(out, err),
            EventData::Fork { parent, child } => {
                pair(out, parent);
                pair(out, child);
            }
            EventData::Exec { task } | EventData::Sid { task } => pair(out, task),
            EventData::Uid {
                task,
                ruid: r,
                euid: e,
            }
            | EventData::Gid {
                task,
                rgid: r,
                egid: e,
            } => {
                pair(out, task);
                put(out, r);
                put(out, e);
            }
            EventData::Ptrace {
                task,
                tracer: other,
            }
            | EventData::Coredump {
                task,
                parent: other,
            } => {
                pair(out, task);
                pair(out, other);
            }
            EventData::Comm { task, comm } => {
                pair(out, task);
                out.extend_from_slice(&comm);
            }
            EventData::Exit {
                task,
                exit_code,
                exit_signal,
                parent,
            } => {
                pair(out, task);
                put(out, exit_code);
                out.extend_from_slice(&exit_signal.to_ne_bytes());
                pair(out, parent);
            }
            EventData::Unknown { .. } => {}
        }
        out.resize(start + LEN, 0);
    }
}

/// The comm bytes up to the first NUL (the kernel pads with NULs; 15 chars at most).
pub fn comm_bytes(comm: &[u8; 16]) -> &[u8] {
    let end = comm.iter().position(|&b| b == 0).unwrap_or(comm.len());
    &comm[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(data: EventData) {
        let ev = ProcEvent {
            cpu: 1,
            timestamp_ns: 123_456_789,
            data,
        };
        let mut buf = Vec::new();
        ev.emit(&mut buf);
        assert_eq!(buf.len(), LEN);
        assert_eq!(ProcEvent::parse(&buf).unwrap(), ev);
    }

    #[test]
    fn every_kind_round_trips() {
        let a = Ids { pid: 10, tgid: 11 };
        let b = Ids { pid: 20, tgid: 21 };
        round_trip(EventData::Ack { err: 0 });
        round_trip(EventData::Fork {
            parent: a,
            child: b,
        });
        round_trip(EventData::Exec { task: a });
        round_trip(EventData::Uid {
            task: a,
            ruid: 1000,
            euid: 0,
        });
        round_trip(EventData::Gid {
            task: a,
            rgid: 5,
            egid: 6,
        });
        round_trip(EventData::Sid { task: a });
        round_trip(EventData::Ptrace { task: a, tracer: b });
        round_trip(EventData::Comm {
            task: a,
            comm: *b"worker\0\0\0\0\0\0\0\0\0\0",
        });
        round_trip(EventData::Coredump { task: a, parent: b });
        round_trip(EventData::Exit {
            task: a,
            exit_code: 0x8b,
            exit_signal: -1,
            parent: b,
        });
        round_trip(EventData::Unknown { what: 0x0800_0000 });
    }

    #[test]
    fn truncated_union_names_the_field() {
        let ev = ProcEvent {
            cpu: 0,
            timestamp_ns: 1,
            data: EventData::Exit {
                task: Ids::default(),
                exit_code: 0,
                exit_signal: 17,
                parent: Ids::default(),
            },
        };
        let mut buf = Vec::new();
        ev.emit(&mut buf);
        let err = ProcEvent::parse(&buf[..30]).unwrap_err();
        assert_eq!(err.what, "proc_event.exit.exit_signal");
        assert_eq!(
            ProcEvent::parse(&buf[..5]).unwrap_err().what,
            "proc_event.cpu"
        );
    }

    #[test]
    fn comm_stops_at_nul() {
        assert_eq!(comm_bytes(b"sh\0\0\0\0\0\0\0\0\0\0\0\0\0\0"), b"sh");
        assert_eq!(comm_bytes(b"0123456789abcdef"), b"0123456789abcdef");
    }
}
