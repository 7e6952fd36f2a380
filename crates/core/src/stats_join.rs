//! Joins exit events (proc connector) with their taskstats records (a second socket,
//! another thread): an exit waits a bounded time for its record, and order is kept.
//!
//! The kernel sends the taskstats record before the connector's exit message, but the two
//! arrive on different sockets, so either may be read first. Records wait in a map by pid;
//! an exit whose record has not come holds back the events behind it (so nothing is
//! reordered) until the record arrives or `wait_ns` passes. Records nobody claims expire.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use taskwatch_wire::taskstats::{Aggregate, Record};

use crate::event::{Event, EventKind};
use crate::exit_stats::ExitStats;

/// How long an exit waits for its record by default.
pub const DEFAULT_WAIT_NS: u64 = 100_000_000;

/// Counters of the join.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct JoinStats {
    /// Exits released with their statistics.
    pub joined: u64,
    /// Exits that waited and were released without (the record was lost or late).
    pub missing: u64,
    /// Records no exit claimed within the expiry (their exit was lost or filtered).
    pub unclaimed: u64,
}

struct Pending {
    stats: ExitStats,
    arrived_ns: u64,
}

struct Held {
    event: Event,
    since_ns: u64,
    /// Whether this event must wait for a record (an exit on a CPU that is listened to).
    awaits: bool,
}

/// The join.
pub struct StatsJoin {
    wait_ns: u64,
    records: HashMap<u32, Pending>,
    held: VecDeque<Held>,
    stats: JoinStats,
    expects: Box<dyn Fn(u32) -> bool + Send>,
}

impl StatsJoin {
    /// A join where exits on CPUs for which `expects(cpu)` is true wait up to `wait_ns`.
    pub fn new(wait_ns: u64, expects: impl Fn(u32) -> bool + Send + 'static) -> Self {
        StatsJoin {
            wait_ns,
            records: HashMap::new(),
            held: VecDeque::new(),
            stats: JoinStats::default(),
            expects: Box::new(expects),
        }
    }

    /// Takes the records of one datagram, in order: a TGID record belongs with the PID
    /// record just before it (the process's last thread). `cpu` is the shard's CPU when
    /// the shard covers one.
    pub fn push_datagram(
        &mut self,
        records: impl IntoIterator<Item = Record>,
        cpu: Option<u32>,
        now_ns: u64,
    ) {
        let mut previous_pid = None;
        for record in records {
            match record.aggregate {
                Aggregate::Pid(pid) => {
                    let stats = ExitStats {
                        task: record.stats,
                        process: None,
                        cpu,
                    };
                    self.records.insert(
                        pid,
                        Pending {
                            stats,
                            arrived_ns: now_ns,
                        },
                    );
                    previous_pid = Some(pid);
                }
                Aggregate::Tgid(tgid) => {
                    let thread = previous_pid.and_then(|pid| self.records.get_mut(&pid));
                    match thread {
                        Some(p) if p.stats.task.ac_tgid == tgid => {
                            p.stats.process = Some(record.stats)
                        }
                        _ => self.claim_process_late(tgid, record),
                    }
                }
            }
        }
    }

    /// A TGID record without its thread record before it: the thread's exit may be held
    /// here already, joined.
    fn claim_process_late(&mut self, tgid: u32, record: Record) {
        let held = self
            .held
            .iter_mut()
            .rev()
            .find_map(|h| match &mut h.event.kind {
                EventKind::Exit { task, stats, .. } if task.tgid == tgid => stats.as_mut(),
                _ => None,
            });
        if let Some(stats) = held {
            Arc::make_mut(stats).process = Some(record.stats);
        } else {
            self.stats.unclaimed += 1;
        }
    }

    /// Takes an event from the connector, in arrival order.
    pub fn push_event(&mut self, mut event: Event, now_ns: u64) {
        let mut awaits = false;
        if let EventKind::Exit { task, stats, .. } = &mut event.kind {
            match self.records.remove(&task.pid) {
                Some(p) => {
                    *stats = Some(Arc::new(p.stats));
                    self.stats.joined += 1;
                }
                None => awaits = (self.expects)(event.cpu),
            }
        }
        self.held.push_back(Held {
            event,
            since_ns: now_ns,
            awaits,
        });
    }

    /// Moves every event that need not wait any longer to `out`, in order.
    pub fn release(&mut self, now_ns: u64, out: &mut Vec<Event>) {
        while let Some(front) = self.held.front_mut() {
            if front.awaits {
                let EventKind::Exit { task, stats, .. } = &mut front.event.kind else {
                    unreachable!("only exits await");
                };
                if let Some(p) = self.records.remove(&task.pid) {
                    *stats = Some(Arc::new(p.stats));
                    self.stats.joined += 1;
                } else if now_ns.saturating_sub(front.since_ns) < self.wait_ns {
                    break;
                } else {
                    self.stats.missing += 1;
                }
            }
            let held = self.held.pop_front().expect("front exists");
            out.push(held.event);
        }
        self.expire(now_ns);
    }

    /// Releases everything now (at shutdown), waiting for nothing.
    pub fn flush(&mut self, out: &mut Vec<Event>) {
        self.release(u64::MAX, out);
    }

    fn expire(&mut self, now_ns: u64) {
        // A record may precede its exit by at most the connector's lag; keep it ten times
        // the exit's wait, then count it unclaimed.
        let horizon = self.wait_ns.saturating_mul(10);
        let before = self.records.len();
        self.records
            .retain(|_, p| now_ns.saturating_sub(p.arrived_ns) < horizon);
        self.stats.unclaimed += (before - self.records.len()) as u64;
    }

    /// Events held back now.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Counters so far.
    pub fn stats(&self) -> JoinStats {
        self.stats
    }
}
