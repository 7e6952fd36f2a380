//! Prints each selected event as one aligned line for people: local time with
//! microseconds, event, pid, comm and what happened; colour on a terminal only.

use std::io::Write;

use taskwatch_core::exit_status::signal_name;
use taskwatch_core::{task_watcher, Ctx, EventKind, ExitStatus, Verdict};

use crate::session::{self, Format, Session};

const HEADER: &str = "TIME             EVENT         PID COMM             DETAILS\n";

pub(crate) fn print_human(ctx: &Ctx<'_>) -> Verdict {
    session::with(|s| {
        if let Format::Human { color } = s.format {
            if !s.done() && s.selection.matches(ctx) {
                if !s.header_printed {
                    s.out.buf.extend_from_slice(HEADER.as_bytes());
                    s.header_printed = true;
                }
                write_line(s, ctx, color);
                s.count_printed();
            }
        }
    });
    Verdict::Continue
}

task_watcher!(any, print_human);

fn write_line(s: &mut Session, ctx: &Ctx<'_>, color: bool) {
    let ev = ctx.event;
    s.clock.write_local_time(&mut s.out.buf, ev.ts_ns);
    let kind = ev.kind.kind();
    let paint = if color { colour_of(&ev.kind) } else { "" };
    let out = &mut s.out.buf;
    let _ = write!(
        out,
        " {paint}{:<9}{}",
        kind.name(),
        if color { "\x1b[0m" } else { "" }
    );
    match ev.kind.subject() {
        Some(ids) => {
            let _ = write!(out, " {:>7} ", ids.pid);
            let comm = ctx.task.comm.to_string();
            let _ = write!(out, "{:<16} ", if comm.is_empty() { "?" } else { &comm });
        }
        None => out.extend_from_slice(b"       - -                "),
    }
    details(out, ctx);
    out.push(b'\n');
}

fn details(out: &mut Vec<u8>, ctx: &Ctx<'_>) {
    let task = ctx.task;
    let _ = match &ctx.event.kind {
        EventKind::Fork { child, .. } if child.pid != child.tgid => {
            write!(out, "new thread of {}", child.tgid)
        }
        EventKind::Fork { parent, .. } => write!(out, "child of {}", parent.tgid),
        EventKind::Exec { exe, argv, .. } => {
            match argv {
                Some(a) => {
                    for (i, arg) in a.args().enumerate() {
                        if i > 0 {
                            out.push(b' ');
                        }
                        push_arg(out, arg);
                    }
                }
                None => out.extend_from_slice(b"(argv unknown)"),
            }
            match exe {
                Some(e) => write!(out, "  [{e}]"),
                None => write!(out, "  [exe unknown]"),
            }
        }
        EventKind::Uid { ruid, euid, .. } => write!(out, "ruid {ruid} euid {euid}"),
        EventKind::Gid { rgid, egid, .. } => write!(out, "rgid {rgid} egid {egid}"),
        EventKind::Sid { .. } => write!(out, "new session"),
        EventKind::Ptrace { tracer, .. } if tracer.pid == 0 => write!(out, "tracer detached"),
        EventKind::Ptrace { tracer, .. } => write!(out, "traced by {}", tracer.pid),
        EventKind::Comm { .. } => write!(out, "renamed"),
        EventKind::Coredump { parent, .. } => write!(out, "dumping core (parent {})", parent.tgid),
        EventKind::Exit { status, .. } => {
            if task.is_thread() {
                out.extend_from_slice(b"thread ");
            }
            let _ = match status {
                ExitStatus::Exited { code } => write!(out, "exit {code}"),
                ExitStatus::Signaled {
                    signal,
                    core_dumped,
                } => {
                    let _ = match signal_name(*signal) {
                        Some(n) => write!(out, "killed by SIG{n}"),
                        None => write!(out, "killed by signal {signal}"),
                    };
                    if *core_dumped {
                        out.extend_from_slice(b" (core dumped)");
                    }
                    Ok(())
                }
            };
            if task.start_ns != 0 && ctx.event.ts_ns >= task.start_ns {
                out.extend_from_slice(b" after ");
                push_duration(out, ctx.event.ts_ns - task.start_ns);
            }
            Ok(())
        }
        EventKind::Lost { count, source } => {
            write!(
                out,
                "LOST {count} events ({}); process table resynced from /proc",
                source.as_str()
            )
        }
        EventKind::Denied {
            watcher, killed, ..
        } => {
            write!(
                out,
                "denied by {watcher}: {}",
                if *killed { "killed" } else { "kill failed" }
            )
        }
        EventKind::Init { .. } | EventKind::Free { .. } => Ok(()),
    };
}

fn push_arg(out: &mut Vec<u8>, arg: &[u8]) {
    let plain = !arg.is_empty()
        && arg
            .iter()
            .all(|&b| b.is_ascii_graphic() && !b"'\"\\$`".contains(&b));
    if plain {
        out.extend_from_slice(arg);
    } else {
        out.push(b'\'');
        for chunk in String::from_utf8_lossy(arg).chars() {
            match chunk {
                '\'' => out.extend_from_slice(b"'\\''"),
                c if c.is_control() => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        out.push(b'\'');
    }
}

/// Appends a duration the way people read them: 812us, 4.52ms, 1.20s, 3m12s, 2h05m.
pub fn push_duration(out: &mut Vec<u8>, ns: u64) {
    let _ = match ns {
        0..=999 => write!(out, "{ns}ns"),
        1_000..=999_999 => write!(out, "{}us", ns / 1_000),
        1_000_000..=999_999_999 => write!(out, "{:.2}ms", ns as f64 / 1e6),
        1_000_000_000..=59_999_999_999 => write!(out, "{:.2}s", ns as f64 / 1e9),
        _ => {
            let secs = ns / 1_000_000_000;
            if secs < 3600 {
                write!(out, "{}m{:02}s", secs / 60, secs % 60)
            } else {
                write!(out, "{}h{:02}m", secs / 3600, secs / 60 % 60)
            }
        }
    };
}

fn colour_of(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::Fork { .. } => "\x1b[32m",
        EventKind::Exec { .. } => "\x1b[36m",
        EventKind::Exit { status, .. } if status.success() => "\x1b[2m",
        EventKind::Exit { .. } | EventKind::Coredump { .. } => "\x1b[31m",
        EventKind::Uid { .. } | EventKind::Gid { .. } => "\x1b[33m",
        EventKind::Ptrace { .. } => "\x1b[35m",
        EventKind::Comm { .. } => "\x1b[34m",
        EventKind::Lost { .. } | EventKind::Denied { .. } => "\x1b[1;31m",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dur(ns: u64) -> String {
        let mut v = Vec::new();
        push_duration(&mut v, ns);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(dur(812), "812ns");
        assert_eq!(dur(812_000), "812us");
        assert_eq!(dur(4_520_000), "4.52ms");
        assert_eq!(dur(1_200_000_000), "1.20s");
        assert_eq!(dur(192_000_000_000), "3m12s");
        assert_eq!(dur(7_500_000_000_000), "2h05m");
    }

    #[test]
    fn args_are_quoted_when_needed() {
        let mut v = Vec::new();
        push_arg(&mut v, b"it's here");
        assert_eq!(String::from_utf8(v).unwrap(), "'it'\\''s here'");
        let mut v = Vec::new();
        push_arg(&mut v, b"-l");
        assert_eq!(v, b"-l");
    }
}
