//! The JSON line format of `taskwatch watch --json`: one object per event, written into a
//! reused buffer without allocation. This comment is the contract.
//!
//! Every event has `"event"` (kind name), `"cpu"` (null for synthetic events), `"ts_ns"`
//! (kernel monotonic ns), `"time"` (RFC 3339, UTC, microseconds), and for events about a
//! task `"pid"`, `"tgid"`, `"ppid"` (when known) and `"comm"` (when known). Then by kind:
//! - fork: `"parent_pid"`, `"parent_tgid"`, `"child_pid"`, `"child_tgid"` (pid/tgid are
//!   the child's), `"thread"`
//! - exec: `"exe"` (string or null), `"argv"` (array of strings, or null)
//! - uid: `"ruid"`, `"euid"` · gid: `"rgid"`, `"egid"` · sid: nothing more
//! - ptrace: `"tracer_pid"`, `"tracer_tgid"` (0 on detach)
//! - comm: `"comm"` is the new name
//! - coredump: `"parent_pid"`, `"parent_tgid"`
//! - exit: `"exit_code"` (0–255, null when killed by a signal), `"signal"` (null when it
//!   exited), `"core_dumped"`, `"thread"`, `"lifetime_ns"` (when the start is known)
//! - denied: `"watcher"`, `"killed"`
//! - lost: `"count"`, `"source"` (no task fields)
//!
//! Fields may be added; these names and meanings stay. Strings are UTF-8; bytes that are
//! not valid UTF-8 become U+FFFD.

use crate::clock::WallClock;
use crate::event::{Event, EventKind, NO_CPU};
use crate::task::{Argv, Ids, Task};

/// Appends one event as a JSON object and a newline.
pub fn write_event(out: &mut Vec<u8>, ev: &Event, task: &Task, clock: &mut WallClock) {
    out.extend_from_slice(b"{\"event\":\"");
    out.extend_from_slice(ev.kind.kind().name().as_bytes());
    out.extend_from_slice(b"\",\"cpu\":");
    if ev.cpu == NO_CPU {
        out.extend_from_slice(b"null");
    } else {
        push_u64(out, ev.cpu as u64);
    }
    field_u64(out, "ts_ns", ev.ts_ns);
    out.extend_from_slice(b",\"time\":\"");
    clock.write_rfc3339(out, ev.ts_ns);
    out.push(b'"');
    if let Some(ids) = ev.kind.subject() {
        field_u64(out, "pid", ids.pid as u64);
        field_u64(out, "tgid", ids.tgid as u64);
        if task.ppid != 0 {
            field_u64(out, "ppid", task.ppid as u64);
        }
        if !task.comm.is_empty() {
            key(out, "comm");
            push_str(out, task.comm.as_bytes());
        }
    }
    match &ev.kind {
        EventKind::Fork { parent, child } => {
            pair(out, "parent_pid", "parent_tgid", *parent);
            pair(out, "child_pid", "child_tgid", *child);
            field_bool(out, "thread", ev.kind.is_thread());
        }
        EventKind::Exec { exe, argv, .. } => {
            key(out, "exe");
            push_opt_str(out, exe.as_deref().map(str::as_bytes));
            key(out, "argv");
            push_argv(out, argv.as_ref());
        }
        EventKind::Uid { ruid, euid, .. } => {
            field_u64(out, "ruid", *ruid as u64);
            field_u64(out, "euid", *euid as u64);
        }
        EventKind::Gid { rgid, egid, .. } => {
            field_u64(out, "rgid", *rgid as u64);
            field_u64(out, "egid", *egid as u64);
        }
        EventKind::Ptrace { tracer, .. } => pair(out, "tracer_pid", "tracer_tgid", *tracer),
        EventKind::Coredump { parent, .. } => pair(out, "parent_pid", "parent_tgid", *parent),
        EventKind::Exit { status, .. } => {
            field_opt(out, "exit_code", status.code().map(u64::from));
            field_opt(out, "signal", status.signal().map(u64::from));
            field_bool(out, "core_dumped", status.core_dumped());
            field_bool(out, "thread", ev.kind.is_thread());
            if task.start_ns != 0 && ev.ts_ns >= task.start_ns {
                field_u64(out, "lifetime_ns", ev.ts_ns - task.start_ns);
            }
        }
        EventKind::Denied {
            watcher, killed, ..
        } => {
            key(out, "watcher");
            push_str(out, watcher.as_bytes());
            field_bool(out, "killed", *killed);
        }
        EventKind::Lost { count, source } => {
            field_u64(out, "count", *count);
            key(out, "source");
            push_str(out, source.as_str().as_bytes());
        }
        EventKind::Init { .. }
        | EventKind::Free { .. }
        | EventKind::Sid { .. }
        | EventKind::Comm { .. } => {}
    }
    out.extend_from_slice(b"}\n");
}

pub(crate) fn key(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

pub(crate) fn push_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

pub(crate) fn field_u64(out: &mut Vec<u8>, name: &str, v: u64) {
    key(out, name);
    push_u64(out, v);
}

pub(crate) fn field_opt(out: &mut Vec<u8>, name: &str, v: Option<u64>) {
    key(out, name);
    match v {
        Some(v) => push_u64(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

pub(crate) fn field_bool(out: &mut Vec<u8>, name: &str, v: bool) {
    key(out, name);
    out.extend_from_slice(if v { b"true" } else { b"false" });
}

fn pair(out: &mut Vec<u8>, pid_key: &str, tgid_key: &str, ids: Ids) {
    field_u64(out, pid_key, ids.pid as u64);
    field_u64(out, tgid_key, ids.tgid as u64);
}

/// Appends a JSON string, or `null` for `None`.
pub fn push_opt_str(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
    match bytes {
        Some(b) => push_str(out, b),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends an argv as a JSON array of strings, or `null` when unknown.
pub fn push_argv(out: &mut Vec<u8>, argv: Option<&Argv>) {
    let Some(argv) = argv else {
        out.extend_from_slice(b"null");
        return;
    };
    out.push(b'[');
    for (i, arg) in argv.args().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str(out, arg);
    }
    out.push(b']');
}

/// Appends `bytes` as a JSON string, escaping as RFC 8259 requires.
pub fn push_str(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        for &b in chunk.valid().as_bytes() {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\t' => out.extend_from_slice(b"\\t"),
                b'\r' => out.extend_from_slice(b"\\r"),
                0..=0x1f | 0x7f => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.extend_from_slice(&[
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[(b >> 4) as usize],
                        HEX[(b & 15) as usize],
                    ]);
                }
                _ => out.push(b),
            }
        }
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{fffd}".as_bytes());
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit_status::ExitStatus;
    use crate::task::Comm;
    use std::sync::Arc;
    use time::UtcOffset;

    fn clock() -> WallClock {
        WallClock::new(1_795_239_547_000_000_000, UtcOffset::UTC)
    }

    fn task(pid: u32) -> Task {
        Task {
            ppid: 1,
            comm: Comm::new(b"sh"),
            start_ns: 1_000,
            ..Task::unknown(Ids { pid, tgid: pid })
        }
    }

    fn render(ev: Event, t: &Task) -> String {
        let mut out = Vec::new();
        write_event(&mut out, &ev, t, &mut clock());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn exec_line_matches_the_contract() {
        let ids = Ids { pid: 42, tgid: 42 };
        let ev = Event {
            cpu: 1,
            ts_ns: 5_000,
            kind: EventKind::Exec {
                task: ids,
                exe: Some(Arc::from("/bin/e\"cho")),
                argv: Some(Argv::from_cmdline(b"echo\0a\nb\0")),
            },
        };
        assert_eq!(
            render(ev, &task(42)),
            "{\"event\":\"exec\",\"cpu\":1,\"ts_ns\":5000,\"time\":\"2026-11-21T05:39:07.000005Z\",\"pid\":42,\"tgid\":42,\"ppid\":1,\"comm\":\"sh\",\"exe\":\"/bin/e\\\"cho\",\"argv\":[\"echo\",\"a\\nb\"]}\n"
        );
    }

    #[test]
    fn exit_by_signal_has_null_code() {
        let ids = Ids { pid: 42, tgid: 42 };
        let ev = Event {
            cpu: 0,
            ts_ns: 3_000,
            kind: EventKind::Exit {
                task: ids,
                status: ExitStatus::from_wait_status(0x80 | 11),
                parent: Ids { pid: 1, tgid: 1 },
                stats: None,
            },
        };
        let line = render(ev, &task(42));
        assert!(line.contains("\"exit_code\":null,\"signal\":11,\"core_dumped\":true,\"thread\":false,\"lifetime_ns\":2000}"), "{line}");
    }

    #[test]
    fn escapes_control_and_invalid_bytes() {
        let mut out = Vec::new();
        push_str(&mut out, b"a\x01\xffb");
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\\u0001\u{fffd}b\"");
    }
}
