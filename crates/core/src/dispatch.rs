//! The dispatcher: applies each event to the process table and hands it, with the task,
//! to every watcher of its kind. It knows no feature; features are watchers.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::dynamic::DynamicWatchers;
use crate::event::{Event, EventKind, Kind, NO_CPU};
use crate::probe::TaskProbe;
use crate::table::{ProcessTable, START_TOLERANCE_NS};
use crate::task::{Ids, Task};
use crate::timing::WatcherTimes;
use crate::watcher::{self, Ctx, Verdict, Watcher};

/// Counters kept by the dispatcher.
#[derive(Debug, Default, Clone)]
pub struct DispatchStats {
    /// Events dispatched, by `Kind::index()`.
    pub events: [u64; Kind::ALL.len()],
    /// Watcher panics caught: (watcher name, count).
    pub panics: Vec<(String, u64)>,
    /// Tasks denied by a watcher.
    pub denied: u64,
    /// Sampled run time per watcher.
    pub times: WatcherTimes,
}

/// Applies events to the process table and calls the watchers.
pub struct Dispatcher<P: TaskProbe> {
    table: ProcessTable,
    probe: P,
    stats: DispatchStats,
    dynamic: Arc<DynamicWatchers>,
}

impl<P: TaskProbe> Dispatcher<P> {
    /// A dispatcher with an empty table.
    pub fn new(probe: P) -> Self {
        Dispatcher {
            table: ProcessTable::new(),
            probe,
            stats: DispatchStats::default(),
            dynamic: Arc::new(DynamicWatchers::new()),
        }
    }

    /// The run-time watcher set, to register and unregister from any thread.
    pub fn dynamic(&self) -> Arc<DynamicWatchers> {
        Arc::clone(&self.dynamic)
    }

    /// The process table.
    pub fn table(&self) -> &ProcessTable {
        &self.table
    }

    /// Times one event in `every` watcher by watcher (1: all; the default is 64).
    pub fn sample_watcher_times(&mut self, every: u32) {
        self.stats.times = WatcherTimes::sampling(every);
    }

    /// Counters so far.
    pub fn stats(&self) -> &DispatchStats {
        &self.stats
    }

    /// The probe.
    pub fn probe_mut(&mut self) -> &mut P {
        &mut self.probe
    }

    /// Loads every task in /proc (flagged pre-existing) and calls `init` watchers for each.
    /// Call it after the event source is listening, so no task falls between the two.
    pub fn bootstrap(&mut self, ts_ns: u64) {
        let snapshots = self.probe.snapshot_all();
        for ids in self.table.bootstrap(snapshots) {
            self.init(ids, NO_CPU, ts_ns);
        }
    }

    /// Dispatches one event.
    pub fn dispatch(&mut self, ev: Event) {
        match &ev.kind {
            EventKind::Fork { parent, child } => self.fork(&ev, *parent, *child),
            EventKind::Exit { task, stats, .. } => {
                if let Some(stats) = stats {
                    self.table.set_exit_stats(task.pid, Arc::clone(stats));
                }
                self.exit(&ev, *task)
            }
            EventKind::Lost { .. } => {
                self.notify(&ev, &Task::unknown(Ids::default()));
                self.resync(ev.cpu, ev.ts_ns);
            }
            kind => {
                let Some(ids) = kind.subject() else { return };
                if self.table.get(ids.pid).is_none() {
                    self.adopt(ids, ev.cpu, ev.ts_ns);
                }
                match kind {
                    EventKind::Exec { exe, argv, .. } => {
                        self.table.exec(ids, exe.clone(), argv.clone())
                    }
                    EventKind::Comm { comm, .. } => self.table.set_comm(ids, *comm),
                    EventKind::Uid { ruid, euid, .. } => self.table.set_uid(ids, *ruid, *euid),
                    EventKind::Gid { rgid, egid, .. } => self.table.set_gid(ids, *rgid, *egid),
                    _ => {}
                }
                let (verdict, watcher) = self.notify_about(&ev, ids);
                // An exec can be denied too: the task that ran a forbidden program dies.
                if let (Verdict::Deny, EventKind::Exec { .. }, Some(name)) =
                    (verdict, &ev.kind, watcher)
                {
                    self.deny(&ev, ids, name);
                }
            }
        }
    }

    fn fork(&mut self, ev: &Event, parent: Ids, child: Ids) {
        // A task created while the bootstrap scan ran is already in the table.
        let known = self
            .table
            .get(child.pid)
            .is_some_and(|t| t.preexisting && t.start_ns.abs_diff(ev.ts_ns) <= START_TOLERANCE_NS);
        let mut verdict = Verdict::Continue;
        let mut denier = None;
        if !known {
            let probe = &mut self.probe;
            self.table
                .fork(parent, child, ev.ts_ns, || probe.snapshot(child.pid));
            let init = Event {
                cpu: ev.cpu,
                ts_ns: ev.ts_ns,
                kind: EventKind::Init { task: child },
            };
            (verdict, denier) = self.notify_about(&init, child);
        }
        if verdict != Verdict::Deny {
            (verdict, denier) = self.notify_about(ev, child);
        }
        if verdict == Verdict::Deny {
            self.deny(ev, child, denier.unwrap_or_else(|| Arc::from("?")));
        }
    }

    fn exit(&mut self, ev: &Event, ids: Ids) {
        self.notify_about(ev, ids);
        let probe = &mut self.probe;
        if let Some(gone) = self.table.remove(ids.pid, |pid| probe.parent_of(pid)) {
            self.free(gone, ev.cpu, ev.ts_ns);
        }
    }

    /// Takes in a task the table missed (created before a loss, or during startup).
    fn adopt(&mut self, ids: Ids, cpu: u32, ts_ns: u64) {
        if let Some(s) = self.probe.snapshot(ids.pid) {
            self.table.insert(Task::from_snapshot(s, true));
            self.init(ids, cpu, ts_ns);
        }
    }

    fn init(&mut self, ids: Ids, cpu: u32, ts_ns: u64) {
        let ev = Event {
            cpu,
            ts_ns,
            kind: EventKind::Init { task: ids },
        };
        if let (Verdict::Deny, Some(name)) = self.notify_about(&ev, ids) {
            self.deny(&ev, ids, name);
        }
    }

    fn free(&mut self, gone: Task, cpu: u32, ts_ns: u64) {
        let ev = Event {
            cpu,
            ts_ns,
            kind: EventKind::Free { task: gone.ids() },
        };
        let (verdict, name) = self.notify(&ev, &gone);
        if verdict != Verdict::Continue {
            tracing::warn!(
                watcher = name.as_deref().unwrap_or("?"),
                "a free watcher asked to stop; free cannot stop, ignored"
            );
        }
    }

    fn deny(&mut self, ev: &Event, ids: Ids, watcher: Arc<str>) {
        let Some(task) = self.table.get(ids.pid).cloned() else {
            return;
        };
        let killed = match self.probe.kill(&task) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(pid = ids.pid, watcher = &*watcher, error = ?e, "could not kill a denied task");
                false
            }
        };
        self.stats.denied += 1;
        let denied = Event {
            cpu: ev.cpu,
            ts_ns: ev.ts_ns,
            kind: EventKind::Denied {
                task: ids,
                watcher,
                killed,
            },
        };
        self.notify(&denied, &task);
    }

    fn resync(&mut self, cpu: u32, ts_ns: u64) {
        let changes = self.table.resync(self.probe.snapshot_all());
        for gone in changes.removed {
            self.free(gone, cpu, ts_ns);
        }
        for ids in changes.added {
            self.init(ids, cpu, ts_ns);
        }
    }

    fn notify_about(&mut self, ev: &Event, ids: Ids) -> (Verdict, Option<Arc<str>>) {
        let table = &self.table;
        match table.get(ids.pid) {
            Some(task) => call_all(
                &Ctx {
                    event: ev,
                    task,
                    table,
                },
                &self.dynamic,
                &mut self.stats,
            ),
            None => call_all(
                &Ctx {
                    event: ev,
                    task: &Task::unknown(ids),
                    table,
                },
                &self.dynamic,
                &mut self.stats,
            ),
        }
    }

    fn notify(&mut self, ev: &Event, task: &Task) -> (Verdict, Option<Arc<str>>) {
        call_all(
            &Ctx {
                event: ev,
                task,
                table: &self.table,
            },
            &self.dynamic,
            &mut self.stats,
        )
    }
}

/// Calls the kind's table, the `any` table, then the run-time watchers.
fn call_all(
    ctx: &Ctx<'_>,
    dynamic: &DynamicWatchers,
    stats: &mut DispatchStats,
) -> (Verdict, Option<Arc<str>>) {
    let kind = ctx.event.kind.kind();
    call_chain(
        &[watcher::table(kind), watcher::any_table()],
        dynamic,
        ctx,
        stats,
    )
}

/// Walks one event's watcher chain: the static `tables` in order, then the run-time
/// watchers of the event's kind. The first non-Continue verdict ends the chain (except on
/// `free`) and is returned with the watcher that gave it; names are only turned into
/// `Arc<str>` when a verdict needs reporting. Public for benchmarks.
pub fn call_chain(
    tables: &[&[Watcher]],
    dynamic: &DynamicWatchers,
    ctx: &Ctx<'_>,
    stats: &mut DispatchStats,
) -> (Verdict, Option<Arc<str>>) {
    let kind = ctx.event.kind.kind();
    stats.events[kind.index()] += 1;
    let timed = stats.times.sample_next();
    // A task leaving the table cannot be stopped from leaving: `free` calls everyone.
    let stoppable = kind != Kind::Free;
    // The common outcome (everyone continued) returns constants: copying the pair back
    // from the stack stalled on store forwarding, ~5 ns per event (perf annotate).
    let mut verdict_first = Verdict::Continue;
    let mut name_first: Option<Arc<str>> = None;
    for table in tables {
        for w in *table {
            let verdict = guarded(w.name, ctx, stats, timed, || (w.func)(ctx));
            if verdict != Verdict::Continue {
                if name_first.is_none() {
                    (verdict_first, name_first) = (verdict, Some(Arc::from(w.name)));
                }
                if stoppable {
                    return (verdict_first, name_first);
                }
            }
        }
    }
    if !dynamic.is_empty() {
        for w in dynamic
            .load()
            .iter()
            .filter(|w| w.kind.is_none_or(|k| k == kind))
        {
            let verdict = guarded(&w.name, ctx, stats, timed, || (w.func)(ctx));
            if verdict != Verdict::Continue {
                if name_first.is_none() {
                    (verdict_first, name_first) = (verdict, Some(Arc::clone(&w.name)));
                }
                if stoppable {
                    return (verdict_first, name_first);
                }
            }
        }
    }
    match name_first {
        None => (Verdict::Continue, None),
        name => (verdict_first, name),
    }
}

/// Calls one watcher, timing it when this event is sampled and turning a panic into a
/// report naming it.
#[inline(always)]
fn guarded(
    name: &str,
    ctx: &Ctx<'_>,
    stats: &mut DispatchStats,
    timed: bool,
    call: impl FnOnce() -> Verdict,
) -> Verdict {
    let caught = if timed {
        stats
            .times
            .time(name, || catch_unwind(AssertUnwindSafe(call)))
    } else {
        catch_unwind(AssertUnwindSafe(call))
    };
    match caught {
        Ok(v) => v,
        Err(payload) => report_panic(name, ctx, stats, payload.as_ref()),
    }
}

/// Logs and counts a caught watcher panic; the chain goes on.
#[cold]
#[inline(never)]
fn report_panic(
    name: &str,
    ctx: &Ctx<'_>,
    stats: &mut DispatchStats,
    payload: &(dyn std::any::Any + Send),
) -> Verdict {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(
        watcher = name,
        event = ctx.event.kind.kind().name(),
        "watcher panicked: {msg}"
    );
    match stats.panics.iter_mut().find(|(n, _)| n == name) {
        Some((_, count)) => *count += 1,
        None => stats.panics.push((name.to_string(), 1)),
    }
    Verdict::Continue
}
