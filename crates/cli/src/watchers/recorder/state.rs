//! The recorder's memory between events: each task's birth and changes, thread statistics
//! summed per process, and processes whose leader exited before their last thread.

use std::collections::HashMap;
use std::sync::Arc;

use taskwatch_core::clock::WallClock;
use taskwatch_core::exit_record::{ExitRecord, ProcessTotals};
use taskwatch_core::exit_stats::ExitStats;
use taskwatch_core::task::Task;
use taskwatch_core::{Ctx, EventKind, ExitStatus};
use taskwatch_store::{Change, ChangeKind, ChangeValue, Lifetime, Recorder};

use super::lifetime::{lifetime, task_stats, Birth};

/// A lifetime keeps at most this many changes (a program renaming itself in a loop would
/// otherwise grow without bound); the rest are counted.
const MAX_CHANGES: usize = 256;

/// A process whose leader exited while other threads lived on is written when its last
/// thread's statistics arrive, or without statistics after this long.
const WAIT_FOR_LAST_THREAD_NS: i64 = 10_000_000_000;

/// What the recorder did, for the summary at the end.
#[derive(Debug, Default, Clone, Copy)]
pub struct RecordCounts {
    /// Process lifetimes handed to the writer.
    pub processes: u64,
    /// Thread lifetimes handed to the writer (with `--threads`).
    pub threads: u64,
    /// Process lifetimes written without taskstats (record lost, late or not collected).
    pub without_stats: u64,
    /// Kernel events reported lost: lifetimes may be missing or incomplete.
    pub kernel_lost: u64,
    /// Tasks that left the table without an exit event (found gone after a loss).
    pub exits_missed: u64,
    /// Changes dropped past the per-lifetime cap.
    pub changes_dropped: u64,
}

/// The `record` watcher's state, owned by the dispatching thread's session.
pub struct LifetimeRecorder {
    writer: Recorder,
    threads: bool,
    births: HashMap<u32, Birth>,
    totals: ProcessTotals,
    waiting: HashMap<u32, Lifetime>,
    counts: RecordCounts,
}

impl LifetimeRecorder {
    /// Records into `writer`; thread lifetimes too when `threads`.
    pub fn new(writer: Recorder, threads: bool) -> Self {
        LifetimeRecorder {
            writer,
            threads,
            births: HashMap::new(),
            totals: ProcessTotals::default(),
            waiting: HashMap::new(),
            counts: RecordCounts::default(),
        }
    }

    /// The writer, for its counters.
    pub fn writer(&self) -> &Recorder {
        &self.writer
    }

    /// What was recorded so far.
    pub fn counts(&self) -> RecordCounts {
        self.counts
    }

    /// Takes one event.
    pub fn on_event(&mut self, ctx: &Ctx<'_>, clock: &WallClock) {
        let ts = wall_ns(clock, ctx.event.ts_ns);
        let task = ctx.task;
        match &ctx.event.kind {
            EventKind::Init { .. } => {
                self.births.insert(task.pid, Birth::of(task));
            }
            EventKind::Exit { status, stats, .. } => {
                self.on_exit(task, *status, stats, ctx.event.ts_ns, clock)
            }
            EventKind::Free { task: ids } => {
                if self.births.remove(&ids.pid).is_some() {
                    self.counts.exits_missed += 1;
                }
            }
            EventKind::Exec { .. } => {
                // The old side of a later rename is the name exec gave it.
                if let Some(birth) = self.births.get_mut(&task.pid) {
                    birth.comm = task.comm;
                }
            }
            EventKind::Lost { count, .. } => self.counts.kernel_lost += count,
            kind => self.on_change(task, kind, ts),
        }
    }

    fn on_change(&mut self, task: &Task, kind: &EventKind, ts: i64) {
        let birth = self
            .births
            .entry(task.pid)
            .or_insert_with(|| Birth::of(task));
        let mut changed = Vec::new();
        match *kind {
            EventKind::Uid { ruid, euid, .. } => {
                push_id(&mut changed, ChangeKind::Uid, &mut birth.ruid, ruid);
                push_id(&mut changed, ChangeKind::Euid, &mut birth.euid, euid);
            }
            EventKind::Gid { rgid, egid, .. } => {
                push_id(&mut changed, ChangeKind::Gid, &mut birth.rgid, rgid);
                push_id(&mut changed, ChangeKind::Egid, &mut birth.egid, egid);
            }
            EventKind::Sid { .. } => changed.push((ChangeKind::Sid, None, id(task.tgid))),
            EventKind::Ptrace { tracer, .. } => {
                let old = std::mem::replace(&mut birth.tracer, tracer.tgid);
                changed.push((ChangeKind::Ptrace, Some(id(old)), id(tracer.tgid)));
            }
            EventKind::Comm { comm, .. } => {
                let old = std::mem::replace(&mut birth.comm, comm);
                let text = |c: taskwatch_core::task::Comm| ChangeValue::Text(c.to_string());
                changed.push((ChangeKind::Comm, Some(text(old)), text(comm)));
            }
            _ => return,
        }
        for (kind, old, new) in changed {
            if birth.changes.len() >= MAX_CHANGES {
                self.counts.changes_dropped += 1;
                continue;
            }
            birth.changes.push(Change {
                ts_ns: ts,
                kind,
                old,
                new,
            });
        }
    }

    fn on_exit(
        &mut self,
        task: &Task,
        status: ExitStatus,
        stats: &Option<Arc<ExitStats>>,
        mono_ns: u64,
        clock: &WallClock,
    ) {
        let end_ns = wall_ns(clock, mono_ns);
        let birth = self
            .births
            .remove(&task.pid)
            .unwrap_or_else(|| Birth::of(task));
        let process_line = stats
            .as_ref()
            .and_then(|s| self.totals.add(s, status, mono_ns));
        let start_ns = match (task.start_ns, stats) {
            (0, Some(s)) => end_ns - (s.task.ac_etime as i64).saturating_mul(1000),
            (0, None) => end_ns,
            (mono, _) => wall_ns(clock, mono),
        };
        let mut life = lifetime(task, birth, status, start_ns, end_ns);
        if task.is_thread() {
            if self.threads {
                life.stats = stats
                    .as_ref()
                    .map(|s| task_stats(&ExitRecord::thread(s, Some(status))));
                self.write(life);
            }
            if let Some(line) = process_line {
                if let Some(mut leader) = self.waiting.remove(&task.tgid) {
                    leader.end_ns = end_ns;
                    leader.stats = Some(task_stats(&line));
                    self.write(leader);
                }
            }
        } else {
            match (stats, process_line) {
                (_, Some(line)) => {
                    life.stats = Some(task_stats(&line));
                    self.write(life);
                }
                (Some(_), None) => {
                    self.waiting.insert(task.tgid, life);
                }
                (None, None) => self.write(life),
            }
        }
        self.expire_waiting(end_ns);
    }

    /// Writes processes that waited too long for their last thread, without statistics.
    fn expire_waiting(&mut self, now_ns: i64) {
        if self.waiting.is_empty() {
            return;
        }
        let expired: Vec<u32> = self
            .waiting
            .iter()
            .filter(|(_, l)| now_ns - l.end_ns > WAIT_FOR_LAST_THREAD_NS)
            .map(|(&tgid, _)| tgid)
            .collect();
        for tgid in expired {
            if let Some(life) = self.waiting.remove(&tgid) {
                self.write(life);
            }
        }
    }

    /// Writes what still waits for a last thread; called once at the end of a run.
    pub fn finish(&mut self) {
        let left: Vec<Lifetime> = self.waiting.drain().map(|(_, l)| l).collect();
        for life in left {
            self.write(life);
        }
    }

    fn write(&mut self, life: Lifetime) {
        if life.is_thread {
            self.counts.threads += 1;
        } else {
            self.counts.processes += 1;
            if life.stats.is_none() {
                self.counts.without_stats += 1;
            }
        }
        // A refusal (queue full) is counted by the writer as lost.
        self.writer.try_record(life);
    }

    /// Stops the writer after committing everything queued.
    pub fn shutdown(self) -> Result<taskwatch_store::RecorderStats, taskwatch_store::StoreError> {
        self.writer.shutdown()
    }
}

fn wall_ns(clock: &WallClock, mono_ns: u64) -> i64 {
    clock.unix_ns(mono_ns).clamp(0, i64::MAX as i128) as i64
}

fn id(v: u32) -> ChangeValue {
    ChangeValue::Int(i64::from(v))
}

fn push_id(
    out: &mut Vec<(ChangeKind, Option<ChangeValue>, ChangeValue)>,
    kind: ChangeKind,
    last: &mut u32,
    new: u32,
) {
    if *last != new {
        out.push((kind, Some(id(*last)), id(new)));
        *last = new;
    }
}
