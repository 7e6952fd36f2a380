//! The taskstats side of the live source: the listener shards, and the join that puts each
//! record on its exit event. Losses of records come out in band, in order.

use taskwatch_core::cpulist::CpuSet;
use taskwatch_core::event::{Event, EventKind, LossSource, NO_CPU};
use taskwatch_core::stats_join::{JoinStats, StatsJoin};
use taskwatch_wire::taskstats::Record;

use crate::clock::monotonic_ns;
use crate::taskstats::{Item, Listener, ListenerConfig, ShardStats, TaskstatsError};

/// Exit statistics for the live source.
pub struct ExitStatsSource {
    listener: Option<Listener>,
    join: StatsJoin,
    items: Vec<Item>,
}

impl ExitStatsSource {
    /// Opens the shards; exits on their CPUs wait up to `wait_ns` for their record.
    pub fn open(config: ListenerConfig, wait_ns: u64) -> Result<Self, TaskstatsError> {
        let listener = Listener::open(config)?;
        let listened: CpuSet = listener
            .shards()
            .iter()
            .fold(CpuSet::new(), |all, s| all.union(&s.cpus));
        let expects = move |cpu: u32| listened.contains(cpu);
        Ok(ExitStatsSource {
            listener: Some(listener),
            join: StatsJoin::new(wait_ns, expects),
            items: Vec::with_capacity(256),
        })
    }

    /// Takes `fresh` connector events, joins what can be joined, and appends to `out`
    /// every event that need not wait any longer.
    pub fn process(&mut self, fresh: &mut Vec<Event>, out: &mut Vec<Event>) {
        if let Some(l) = self.listener.as_ref() {
            l.try_recv(&mut self.items);
        }
        let now = monotonic_ns();
        self.take_items(now);
        for ev in fresh.drain(..) {
            self.join.push_event(ev, now);
        }
        self.join.release(now, out);
    }

    /// Closes the listener and releases everything held.
    pub fn finish(&mut self, out: &mut Vec<Event>) -> Vec<ShardStats> {
        let stats = match self.listener.take() {
            Some(l) => {
                let closed = l.close();
                self.items.extend(closed.items);
                closed.stats
            }
            None => Vec::new(),
        };
        self.take_items(monotonic_ns());
        self.join.flush(out);
        stats
    }

    /// Counters of the join.
    pub fn join_stats(&self) -> JoinStats {
        self.join.stats()
    }

    fn take_items(&mut self, now: u64) {
        let mut items = std::mem::take(&mut self.items);
        let mut datagram: Vec<Record> = Vec::with_capacity(2);
        let mut current: Option<(u32, Option<u32>)> = None;
        for item in items.drain(..) {
            match item {
                Item::Record { cpu, seq, record } => {
                    // The records of one datagram come adjacent, with the same seq.
                    if current.is_some_and(|c| c != (seq, cpu)) {
                        let (_, cpu) = current.expect("checked");
                        self.join.push_datagram(datagram.drain(..), cpu, now);
                    }
                    current = Some((seq, cpu));
                    datagram.push(record);
                }
                other => {
                    if let Some((_, cpu)) = current.take() {
                        self.join.push_datagram(datagram.drain(..), cpu, now);
                    }
                    self.take_other(other, now);
                }
            }
        }
        if let Some((_, cpu)) = current {
            self.join.push_datagram(datagram.drain(..), cpu, now);
        }
        self.items = items;
    }

    fn take_other(&mut self, item: Item, now: u64) {
        match item {
            Item::Lost { count, cpus, cause } => {
                tracing::debug!(count, %cpus, cause = cause.as_str(), "taskstats records lost");
                let lost = Event {
                    cpu: NO_CPU,
                    ts_ns: now,
                    kind: EventKind::Lost {
                        count,
                        source: LossSource::Taskstats,
                    },
                };
                self.join.push_event(lost, now);
            }
            Item::ShardFailed { cpus, error } => {
                tracing::error!(
                    %cpus,
                    "a taskstats shard stopped ({error}): exits on these CPUs come without statistics"
                );
            }
            Item::Record { .. } => unreachable!("records are handled by the caller"),
        }
    }
}
