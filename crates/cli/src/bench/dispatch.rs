//! `taskwatch bench dispatch`: nanoseconds and allocations per event for three ways of
//! calling N watchers — the linker tables, the run-time set, a naive locked chain.

use std::hint::black_box;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use taskwatch_core::dispatch::{call_chain, DispatchStats};
use taskwatch_core::dynamic::DynamicWatchers;
use taskwatch_core::{Ctx, Event, EventKind, Ids, Kind, ProcessTable, Task, Verdict};
use taskwatch_kernel::alloc_count::allocations;

use super::trivial;

/// Watcher counts measured.
pub const WATCHER_COUNTS: [usize; 4] = [0, 1, 8, 64];

/// How the watchers are called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// Linker-gathered tables walked by the dispatcher's own chain.
    Static,
    /// The run-time set (arc-swap snapshot), walked by the same chain.
    Dynamic,
    /// `Mutex<Vec<Box<dyn Fn>>>`: the notifier chain the seed replaced.
    Locked,
}

impl Mechanism {
    /// Name in the JSON rows.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Static => "static",
            Mechanism::Dynamic => "dynamic",
            Mechanism::Locked => "locked",
        }
    }
}

/// One measured configuration.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// How the watchers were called.
    pub mechanism: Mechanism,
    /// How many.
    pub watchers: usize,
    /// Median over the runs.
    pub ns_per_event: f64,
    /// Allocations per event (rounded up, so a single allocation anywhere shows).
    pub allocations_per_event: u64,
}

type LockedChain = Mutex<Vec<Box<dyn Fn(&Ctx<'_>) -> Verdict + Send>>>;

/// A prepared configuration: everything is built before timing starts.
struct Setup {
    mechanism: Mechanism,
    watchers: usize,
    dynamic: DynamicWatchers,
    locked: LockedChain,
    stats: DispatchStats,
}

impl Setup {
    fn new(mechanism: Mechanism, watchers: usize) -> Self {
        let dynamic = DynamicWatchers::new();
        let locked: LockedChain = Mutex::new(Vec::new());
        // Every mechanism calls the same functions (those of the static table), so branch
        // prediction treats them alike.
        for w in trivial::table(watchers) {
            let func = w.func;
            match mechanism {
                Mechanism::Static => {}
                Mechanism::Dynamic => {
                    dynamic.register(Some(Kind::Exec), w.name, Arc::new(func));
                }
                Mechanism::Locked => locked.lock().expect("not poisoned").push(Box::new(func)),
            }
        }
        Setup {
            mechanism,
            watchers,
            dynamic,
            locked,
            stats: DispatchStats::default(),
        }
    }

    fn call(&mut self, ctx: &Ctx<'_>) -> Verdict {
        match self.mechanism {
            Mechanism::Static => {
                let tables = [trivial::table(self.watchers)];
                call_chain(&tables, &self.dynamic, ctx, &mut self.stats).0
            }
            Mechanism::Dynamic => call_chain(&[], &self.dynamic, ctx, &mut self.stats).0,
            Mechanism::Locked => {
                let chain = self.locked.lock().expect("not poisoned");
                for w in chain.iter() {
                    let v = w(ctx);
                    if v != Verdict::Continue {
                        return v;
                    }
                }
                Verdict::Continue
            }
        }
    }

    /// Times `events` dispatches; returns (ns per event, allocations).
    fn run(&mut self, events: u64, ev: &Event, task: &Task, table: &ProcessTable) -> (f64, u64) {
        let allocs_before = allocations();
        let start = Instant::now();
        for _ in 0..events {
            let ctx = Ctx {
                event: black_box(ev),
                task: black_box(task),
                table,
            };
            black_box(self.call(&ctx));
        }
        let ns = start.elapsed().as_nanos() as f64 / events as f64;
        (ns, allocations() - allocs_before)
    }
}

/// Measures every (mechanism, watchers) pair, `runs` times each with the configurations
/// interleaved (so machine noise spreads over all of them), and returns medians.
pub fn measure(events: u64, runs: usize, mut progress: impl FnMut(usize, usize)) -> Vec<Row> {
    let ids = Ids {
        pid: 4242,
        tgid: 4242,
    };
    let task = Task::unknown(ids);
    let table = ProcessTable::new();
    let ev = Event {
        cpu: 0,
        ts_ns: 1,
        kind: EventKind::Exec {
            task: ids,
            exe: None,
            argv: None,
        },
    };
    let mut setups: Vec<Setup> = [Mechanism::Static, Mechanism::Dynamic, Mechanism::Locked]
        .into_iter()
        .flat_map(|m| WATCHER_COUNTS.map(|n| Setup::new(m, n)))
        .collect();
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); setups.len()];
    let mut allocs = vec![0u64; setups.len()];
    let mut counted = vec![0u64; setups.len()];
    // One untimed pass first: what is allocated once (the timing table's first entries,
    // say) is not a per-event cost.
    for setup in setups.iter_mut() {
        setup.run(events.min(10_000), &ev, &task, &table);
    }
    for run in 0..runs {
        for (i, setup) in setups.iter_mut().enumerate() {
            // Fewer events for long chains keep every run about the same length.
            let n = (events / (1 + setup.watchers as u64 / 8)).max(1);
            let (ns, a) = setup.run(n, &ev, &task, &table);
            samples[i].push(ns);
            allocs[i] += a;
            counted[i] += n;
        }
        progress(run + 1, runs);
    }
    setups
        .iter()
        .enumerate()
        .map(|(i, s)| Row {
            mechanism: s.mechanism,
            watchers: s.watchers,
            ns_per_event: median(&mut samples[i]),
            allocations_per_event: allocs[i].div_ceil(counted[i]),
        })
        .collect()
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Prints one JSON object per row.
pub fn write_json(rows: &[Row], out: &mut impl Write) -> std::io::Result<()> {
    for r in rows {
        writeln!(
            out,
            "{{\"mechanism\":\"{}\",\"watchers\":{},\"ns_per_event\":{:.2},\"allocations_per_event\":{}}}",
            r.mechanism.name(),
            r.watchers,
            r.ns_per_event,
            r.allocations_per_event
        )?;
    }
    Ok(())
}

/// Prints a table and the ratios the targets are stated in.
pub fn write_human(rows: &[Row], out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<10}{:>9}{:>14}{:>14}",
        "mechanism", "watchers", "ns/event", "allocs/event"
    )?;
    for r in rows {
        writeln!(
            out,
            "{:<10}{:>9}{:>14.2}{:>14}",
            r.mechanism.name(),
            r.watchers,
            r.ns_per_event,
            r.allocations_per_event
        )?;
    }
    let ns = |m: Mechanism, n: usize| {
        rows.iter()
            .find(|r| r.mechanism == m && r.watchers == n)
            .map_or(f64::NAN, |r| r.ns_per_event)
    };
    writeln!(
        out,
        "\none static watcher adds {:.2} ns per event (target <= 2)",
        ns(Mechanism::Static, 1) - ns(Mechanism::Static, 0)
    )?;
    writeln!(
        out,
        "at 8 watchers the locked chain costs {:.1}x the static tables (target >= 3)",
        ns(Mechanism::Locked, 8) / ns(Mechanism::Static, 8)
    )
}
