//! `watch --stats`: counts selected events per command and kind, printed as a table at
//! the end, like `forkstat -S`.

use std::collections::HashMap;
use std::io::Write;

use taskwatch_core::dispatch::DispatchStats;
use taskwatch_core::{task_watcher, Comm, Ctx, Kind, Verdict};

use crate::session;

/// Counts per comm, by kernel kind.
#[derive(Debug, Default)]
pub struct StatsTable {
    rows: HashMap<Comm, [u64; Kind::KERNEL.len()]>,
    lost: u64,
}

impl StatsTable {
    fn add(&mut self, comm: Comm, kind: Kind) {
        if let Some(col) = Kind::KERNEL.iter().position(|&k| k == kind) {
            self.rows.entry(comm).or_default()[col] += 1;
        }
    }

    /// Writes the table, busiest command first.
    pub fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        let mut rows: Vec<(&Comm, &[u64; 9], u64)> = self
            .rows
            .iter()
            .map(|(c, counts)| (c, counts, counts.iter().sum()))
            .collect();
        rows.sort_by(|a, b| {
            b.2.cmp(&a.2)
                .then_with(|| a.0.as_bytes().cmp(b.0.as_bytes()))
        });
        writeln!(out)?;
        for k in Kind::KERNEL {
            write!(out, "{:>9}", k.name())?;
        }
        writeln!(out, "{:>9}  COMM", "total")?;
        let mut totals = [0u64; 9];
        for (comm, counts, total) in &rows {
            for (i, c) in counts.iter().enumerate() {
                totals[i] += c;
                write!(out, "{c:>9}")?;
            }
            writeln!(out, "{total:>9}  {comm}")?;
        }
        for t in totals {
            write!(out, "{t:>9}")?;
        }
        writeln!(
            out,
            "{:>9}  (all {} commands)",
            totals.iter().sum::<u64>(),
            rows.len()
        )?;
        if self.lost > 0 {
            writeln!(out, "{} events were lost and are not counted", self.lost)?;
        }
        Ok(())
    }
}

/// Writes each watcher's sampled time, slowest first, and the panics caught.
pub fn write_watcher_times(stats: &DispatchStats, out: &mut impl Write) -> std::io::Result<()> {
    let times = &stats.times;
    writeln!(out, "\nwatcher time (1 event in {} timed):", times.every())?;
    writeln!(
        out,
        "{:>9}{:>11}{:>11}  WATCHER",
        "calls", "mean_ns", "max_ns"
    )?;
    for t in times.by_mean() {
        let flag = if t.is_slow() { "  SLOW" } else { "" };
        writeln!(
            out,
            "{:>9}{:>11}{:>11}  {}{flag}",
            t.calls,
            t.mean_ns(),
            t.max_ns,
            t.name
        )?;
    }
    for (name, count) in &stats.panics {
        writeln!(out, "{name} panicked {count} times")?;
    }
    Ok(())
}

fn count_event(ctx: &Ctx<'_>) -> Verdict {
    session::with(|s| {
        if s.stats.is_some() && s.selection.matches(ctx) {
            if let Some(table) = s.stats.as_mut() {
                if let taskwatch_core::EventKind::Lost { count, .. } = ctx.event.kind {
                    table.lost += count;
                }
                table.add(ctx.task.comm, ctx.event.kind.kind());
            }
        }
    });
    Verdict::Continue
}

task_watcher!(any, count_event);
