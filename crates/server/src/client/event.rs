//! Typed events on the client side: a server line in the `watch --json` schema turned
//! back into the core's `Event` plus what the line says about the task; and the `gap`.

use std::sync::Arc;

use crate::protocol::exit_stats::StatsMember;
use serde::Deserialize;
use taskwatch_core::clock::WallClock;
use taskwatch_core::event::NO_CPU;
use taskwatch_core::json;
use taskwatch_core::{Argv, Comm, Event, EventKind, ExitStatus, Ids, LossSource, Task};

/// What the client hands its caller.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// An event (including in-band `lost`).
    Event(RemoteEvent),
    /// The connection was lost and is back: events in between were not received.
    Gap(Gap),
}

/// One event from the daemon.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteEvent {
    /// The event as the core models it (exit parents are not sent; exit statistics only
    /// to registrations asking `exit_stats`).
    pub event: Event,
    /// The task's parent process, when the daemon knew it.
    pub ppid: Option<u32>,
    /// The task's comm, when the daemon knew it.
    pub comm: Option<Comm>,
    /// For exits: how long the task lived.
    pub lifetime_ns: Option<u64>,
    /// The line as received (without newline): the `watch --json` output.
    pub line: Arc<str>,
}

impl RemoteEvent {
    /// The task as far as the line tells (the rest unknown).
    pub fn task(&self) -> Task {
        let ids = self.event.kind.subject().unwrap_or_default();
        let mut task = Task::unknown(ids);
        task.ppid = self.ppid.unwrap_or(0);
        task.comm = self.comm.unwrap_or_default();
        if let Some(lifetime) = self.lifetime_ns {
            task.start_ns = self.event.ts_ns.saturating_sub(lifetime);
        }
        task
    }
}

/// Events missed while disconnected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// Timestamp of the last event received before (none if none was).
    pub since_ts_ns: Option<u64>,
    /// The daemon's clock when the new connection was made: events from `since_ts_ns` to
    /// here may be missing.
    pub resumed_ts_ns: u64,
    /// Whether a different daemon instance answered (it restarted).
    pub restarted: bool,
    /// Why the connection was lost.
    pub reason: String,
}

impl Gap {
    /// Appends the gap as a JSON line (`"event":"gap"`, an addition to the schema).
    pub fn write_json(&self, out: &mut Vec<u8>, clock: &mut WallClock) {
        out.extend_from_slice(b"{\"event\":\"gap\",\"cpu\":null,\"ts_ns\":");
        out.extend_from_slice(self.resumed_ts_ns.to_string().as_bytes());
        out.extend_from_slice(b",\"time\":\"");
        clock.write_rfc3339(out, self.resumed_ts_ns);
        out.extend_from_slice(b"\",\"since_ts_ns\":");
        match self.since_ts_ns {
            Some(ts) => out.extend_from_slice(ts.to_string().as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"restarted\":");
        out.extend_from_slice(if self.restarted { b"true" } else { b"false" });
        out.extend_from_slice(b",\"reason\":");
        json::push_str(out, self.reason.as_bytes());
        out.extend_from_slice(b"}\n");
    }
}

#[derive(Deserialize)]
struct Wire {
    event: String,
    cpu: Option<u32>,
    ts_ns: u64,
    pid: Option<u32>,
    tgid: Option<u32>,
    ppid: Option<u32>,
    comm: Option<String>,
    parent_pid: Option<u32>,
    parent_tgid: Option<u32>,
    exe: Option<String>,
    argv: Option<Vec<String>>,
    ruid: Option<u32>,
    euid: Option<u32>,
    rgid: Option<u32>,
    egid: Option<u32>,
    tracer_pid: Option<u32>,
    tracer_tgid: Option<u32>,
    exit_code: Option<u8>,
    signal: Option<u8>,
    core_dumped: Option<bool>,
    lifetime_ns: Option<u64>,
    count: Option<u64>,
    source: Option<String>,
    stats: Option<StatsMember>,
}

/// Why a line is not an event this client understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable event line: {0}")]
pub struct EventParseError(pub String);

fn need<T>(v: Option<T>, field: &str) -> Result<T, EventParseError> {
    v.ok_or_else(|| EventParseError(format!("missing {field:?}")))
}

/// Parses one event line. Kinds this client does not know are an error the caller may
/// skip (the server may add kinds).
pub fn parse_event(line: &str) -> Result<RemoteEvent, EventParseError> {
    let w: Wire = serde_json::from_str(line).map_err(|e| EventParseError(e.to_string()))?;
    let task = || -> Result<Ids, EventParseError> {
        Ok(Ids {
            pid: need(w.pid, "pid")?,
            tgid: need(w.tgid, "tgid")?,
        })
    };
    let parent = || -> Result<Ids, EventParseError> {
        Ok(Ids {
            pid: need(w.parent_pid, "parent_pid")?,
            tgid: need(w.parent_tgid, "parent_tgid")?,
        })
    };
    let kind = match w.event.as_str() {
        "fork" => EventKind::Fork {
            parent: parent()?,
            child: task()?,
        },
        "exec" => EventKind::Exec {
            task: task()?,
            exe: w.exe.as_deref().map(Arc::from),
            argv: w
                .argv
                .as_ref()
                .map(|a| Argv::from_cmdline(a.join("\0").as_bytes())),
        },
        "uid" => EventKind::Uid {
            task: task()?,
            ruid: need(w.ruid, "ruid")?,
            euid: need(w.euid, "euid")?,
        },
        "gid" => EventKind::Gid {
            task: task()?,
            rgid: need(w.rgid, "rgid")?,
            egid: need(w.egid, "egid")?,
        },
        "sid" => EventKind::Sid { task: task()? },
        "ptrace" => EventKind::Ptrace {
            task: task()?,
            tracer: Ids {
                pid: need(w.tracer_pid, "tracer_pid")?,
                tgid: need(w.tracer_tgid, "tracer_tgid")?,
            },
        },
        "comm" => EventKind::Comm {
            task: task()?,
            comm: Comm::new(w.comm.as_deref().unwrap_or("").as_bytes()),
        },
        "coredump" => EventKind::Coredump {
            task: task()?,
            parent: parent()?,
        },
        "exit" => EventKind::Exit {
            task: task()?,
            status: match (w.exit_code, w.signal) {
                (Some(code), _) => ExitStatus::Exited { code },
                (None, Some(signal)) => ExitStatus::Signaled {
                    signal,
                    core_dumped: w.core_dumped.unwrap_or(false),
                },
                (None, None) => return Err(EventParseError("exit without code or signal".into())),
            },
            parent: Ids::default(),
            stats: match &w.stats {
                Some(member) => Some(Arc::new(
                    member
                        .decode()
                        .map_err(|e| EventParseError(e.to_string()))?,
                )),
                None => None,
            },
        },
        "lost" => EventKind::Lost {
            count: need(w.count, "count")?,
            source: match w.source.as_deref() {
                Some("proc_connector") => LossSource::ProcConnector,
                Some("exec_trace") => LossSource::ExecTrace,
                Some("taskstats") => LossSource::Taskstats,
                _ => LossSource::Queue,
            },
        },
        other => return Err(EventParseError(format!("unknown event kind {other:?}"))),
    };
    Ok(RemoteEvent {
        event: Event {
            cpu: w.cpu.unwrap_or(NO_CPU),
            ts_ns: w.ts_ns,
            kind,
        },
        ppid: w.ppid,
        comm: w.comm.as_deref().map(|c| Comm::new(c.as_bytes())),
        lifetime_ns: w.lifetime_ns,
        line: Arc::from(line),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskwatch_core::clock::WallClock;
    use time::UtcOffset;

    /// The line the daemon renders for an event parses back to the same event and task.
    #[test]
    fn round_trips_the_watch_json_schema() {
        let ids = Ids { pid: 42, tgid: 42 };
        let mut task = Task::unknown(ids);
        task.ppid = 1;
        task.comm = Comm::new(b"sh");
        task.start_ns = 1_000;
        let mut clock = WallClock::new(0, UtcOffset::UTC);
        for kind in [
            EventKind::Exec {
                task: ids,
                exe: Some(Arc::from("/bin/sh")),
                argv: Some(Argv::from_cmdline(b"sh\0-c\0x")),
            },
            EventKind::Exit {
                task: ids,
                status: ExitStatus::Signaled {
                    signal: 9,
                    core_dumped: false,
                },
                parent: Ids::default(),
                stats: None,
            },
            EventKind::Fork {
                parent: Ids { pid: 1, tgid: 1 },
                child: ids,
            },
        ] {
            let ev = Event {
                cpu: 1,
                ts_ns: 5_000,
                kind,
            };
            let mut out = Vec::new();
            json::write_event(&mut out, &ev, &task, &mut clock);
            let line = std::str::from_utf8(&out).unwrap().trim_end();
            let parsed = parse_event(line).unwrap();
            assert_eq!(parsed.event, ev);
            let mut again = Vec::new();
            json::write_event(&mut again, &parsed.event, &parsed.task(), &mut clock);
            assert_eq!(again, out);
        }
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_event("{").is_err());
        assert!(parse_event(r#"{"event":"exit","cpu":0,"ts_ns":1,"pid":1,"tgid":1}"#).is_err());
        assert!(parse_event(r#"{"event":"teleport","cpu":0,"ts_ns":1}"#).is_err());
    }
}
