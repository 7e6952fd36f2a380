//! `taskwatch exits`: a line per exiting process (or thread) with the kernel's statistics,
//! human or JSON (crates/core/src/exit_json.rs); losses in band.

use std::io::Write;

use taskwatch_core::exit_json::{write_exit, write_lost};
use taskwatch_core::exit_record::{ExitRecord, ProcessTotals};
use taskwatch_core::exit_status::signal_name;
use taskwatch_core::{task_watcher, Ctx, EventKind, ExitStatus, Verdict};

use crate::session::{self, Session};

const HEADER: &str =
    "TIME                PID    PPID   UID COMM             EXIT        ELAPSED     USER      SYS   MAXRSS     READ    WRITE  CSW v/i\n";

/// The `exits` printer's settings and state.
pub struct ExitsPrinter {
    pub json: bool,
    pub threads: bool,
    pub delays: bool,
    pub totals: ProcessTotals,
    /// Exits that came without statistics (their record was lost or late).
    pub without_stats: u64,
}

/// The watcher: prints an exit (or a loss) when an exits printer is installed.
pub fn print_exit(ctx: &Ctx<'_>) -> Verdict {
    session::with(|s| {
        if s.exits.is_some() && !s.done() && s.selection.matches(ctx) {
            on_event(s, ctx);
        }
    });
    Verdict::Continue
}

task_watcher!(exit, print_exit);
task_watcher!(lost, print_exit);

fn on_event(s: &mut Session, ctx: &Ctx<'_>) {
    let Some(p) = s.exits.as_mut() else { return };
    match &ctx.event.kind {
        EventKind::Exit {
            stats: Some(stats),
            status,
            ..
        } => {
            let line = if p.threads {
                Some(ExitRecord::thread(stats, Some(*status)))
            } else {
                p.totals.add(stats, *status, ctx.event.ts_ns)
            };
            let Some(line) = line else { return };
            let (json, delays) = (p.json, p.delays);
            let cpu = stats.cpu.or(Some(ctx.event.cpu));
            if json {
                write_exit(&mut s.out.buf, &line, cpu);
            } else {
                write_human(s, ctx.event.ts_ns, &line, delays);
            }
            s.count_printed();
        }
        EventKind::Exit { stats: None, .. } => p.without_stats += 1,
        EventKind::Lost { count, source } => {
            if p.json {
                write_lost(&mut s.out.buf, *count, source.as_str());
            } else {
                let _ = writeln!(
                    s.out.buf,
                    "lost {count} events ({}): some exits are missing",
                    source.as_str()
                );
            }
        }
        _ => {}
    }
}

fn write_human(s: &mut Session, ts_ns: u64, r: &ExitRecord, delays: bool) {
    if !s.header_printed {
        s.out.buf.extend_from_slice(HEADER.as_bytes());
        s.header_printed = true;
    }
    s.clock.write_local_time(&mut s.out.buf, ts_ns);
    let c = &r.counters;
    let out = &mut s.out.buf;
    let _ = write!(
        out,
        " {:>7} {:>7} {:>5} {:<16} {:<9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}  {}/{}",
        r.pid,
        r.ppid,
        r.uid,
        r.comm.to_string(),
        status_text(r.status),
        duration_us(r.elapsed_us),
        duration_us(c.utime_us),
        duration_us(c.stime_us),
        bytes(c.hiwater_rss_kb * 1024),
        bytes(c.read_bytes),
        bytes(c.write_bytes),
        c.nvcsw,
        c.nivcsw,
    );
    out.push(b'\n');
    if delays {
        out.extend_from_slice(b"    delays:");
        for (class, d) in &r.delays {
            let _ = write!(
                out,
                " {} {}x {} avg {}",
                class.name(),
                d.count,
                duration_ns(d.total_ns),
                duration_ns(d.mean_ns())
            );
            if let (Some(max), Some(min)) = (d.max_ns, d.min_ns) {
                let _ = write!(out, " max {} min {}", duration_ns(max), duration_ns(min));
            }
            out.push(b';');
        }
        out.push(b'\n');
    }
}

fn status_text(status: Option<ExitStatus>) -> String {
    let Some(status) = status else {
        return "running".into();
    };
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(sig)) => {
            let name = signal_name(sig).unwrap_or("SIG?");
            let core = if status.core_dumped() { "+core" } else { "" };
            format!("{name}{core}")
        }
        (None, None) => "?".into(),
    }
}

/// A duration in µs, as 12.3ms or 1.204s.
pub fn duration_us(us: u64) -> String {
    duration_ns(us.saturating_mul(1000))
}

/// A duration in ns with a unit that keeps it short.
pub fn duration_ns(ns: u64) -> String {
    match ns {
        0..1_000 => format!("{ns}ns"),
        1_000..1_000_000 => format!("{:.1}us", ns as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1}ms", ns as f64 / 1e6),
        _ => format!("{:.3}s", ns as f64 / 1e9),
    }
}

/// Bytes as 4.0K, 64.0M (powers of 1024).
pub fn bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["", "K", "M", "G", "T"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b}")
    } else {
        format!("{v:.1}{}", UNITS[u])
    }
}
