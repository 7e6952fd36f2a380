//! `history` for people: one aligned line per lifetime (local start time, how long, how it
//! ended, what it cost, its command line), with its changes beneath when asked.

use std::io::Write;

use taskwatch_core::exit_status::signal_name;
use taskwatch_store::{ChangeValue, Lifetime};

use super::when::When;
use crate::watchers::exits::{bytes, duration_ns, duration_us};

const HEADER: &str = "START                    LIFETIME     PID    PPID   UID EXIT           CPU   MAXRSS       IO COMMAND\n";

/// Prints rows, with the header before the first.
pub struct Table {
    changes: bool,
    rows: u64,
}

impl Table {
    /// A table; with `changes`, each lifetime's changes follow it.
    pub fn new(changes: bool) -> Self {
        Table { changes, rows: 0 }
    }

    /// Rows printed.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Appends one lifetime.
    pub fn row(&mut self, out: &mut Vec<u8>, l: &Lifetime, when: &When) {
        if self.rows == 0 {
            out.extend_from_slice(HEADER.as_bytes());
        }
        self.rows += 1;
        let (cpu, rss, io) = match &l.stats {
            Some(s) => (
                duration_us(s.utime_us + s.stime_us),
                bytes(s.hiwater_rss_kb * 1024),
                bytes(s.read_bytes + s.write_bytes),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        let _ = writeln!(
            out,
            "{} {:>9} {:>7} {:>7} {:>5} {:<11} {:>8} {:>8} {:>8} {}",
            when.local_text(l.start_ns),
            duration_ns(l.lifetime_ns() as u64),
            l.pid,
            l.ppid,
            l.uid_start,
            status_text(l),
            cpu,
            rss,
            io,
            command(l),
        );
        if self.changes {
            for c in &l.changes {
                let old = c.old.as_ref().map(text).unwrap_or_else(|| "?".into());
                let _ = writeln!(
                    out,
                    "    {} {} {} -> {}",
                    when.local_text(c.ts_ns),
                    c.kind.name(),
                    old,
                    text(&c.new)
                );
            }
        }
    }
}

fn status_text(l: &Lifetime) -> String {
    match (l.exit_code, l.signal) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(sig)) => {
            let name = u8::try_from(sig).ok().and_then(signal_name).unwrap_or("?");
            let core = if l.core_dumped { "+core" } else { "" };
            format!("SIG{name}{core}")
        }
        (None, None) => "?".into(),
    }
}

/// The command line, or `[comm]` when argv is unknown; a thread names its process.
fn command(l: &Lifetime) -> String {
    let mut text = match &l.argv {
        Some(argv) if !argv.is_empty() => argv.join(" "),
        _ => format!("[{}]", l.comm),
    };
    if l.is_thread {
        text += &format!(" (thread {} of {})", l.comm, l.tgid);
    }
    text.replace(['\n', '\r'], " ")
}

fn text(v: &ChangeValue) -> String {
    match v {
        ChangeValue::Int(i) => i.to_string(),
        ChangeValue::Text(t) => t.clone(),
    }
}
