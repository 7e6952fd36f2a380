//! Per-watcher run time, sampled: one dispatched event in `every` has each of its watchers
//! timed, so the hot path pays a counter decrement and a slow watcher still shows.

use std::time::Instant;

/// How often a dispatched event is timed by default: 1 in 1024. Two clock reads per
/// watcher cost ~50 ns in a VM; sampled this rarely they add < 0.1 ns per watcher.
pub const DEFAULT_SAMPLE_EVERY: u32 = 1024;

/// A watcher whose mean sampled time is at least this is reported as slow.
pub const SLOW_MEAN_NS: u64 = 10_000;

/// Samples needed before the mean can call a watcher slow.
pub const MIN_CALLS_FOR_MEAN: u64 = 4;

/// A watcher that took at least this once is reported as slow.
pub const SLOW_MAX_NS: u64 = 1_000_000;

/// Sampled run time of one watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatcherTiming {
    /// The watcher's name.
    pub name: String,
    /// Calls timed.
    pub calls: u64,
    /// Their total time.
    pub total_ns: u64,
    /// The longest of them.
    pub max_ns: u64,
}

impl WatcherTiming {
    /// Mean time per timed call.
    pub fn mean_ns(&self) -> u64 {
        self.total_ns.checked_div(self.calls).unwrap_or(0)
    }

    /// Slow by its worst call, or by its mean once there are a few samples (the first
    /// call of a run pays for cold caches and is no verdict).
    pub fn is_slow(&self) -> bool {
        (self.calls >= MIN_CALLS_FOR_MEAN && self.mean_ns() >= SLOW_MEAN_NS)
            || self.max_ns >= SLOW_MAX_NS
    }
}

/// The sampler and the timings gathered so far.
#[derive(Debug, Clone)]
pub struct WatcherTimes {
    every: u32,
    countdown: u32,
    entries: Vec<WatcherTiming>,
}

impl Default for WatcherTimes {
    fn default() -> Self {
        Self::sampling(DEFAULT_SAMPLE_EVERY)
    }
}

impl WatcherTimes {
    /// Times one event in `every` (1 times them all; 0 is taken as 1).
    pub fn sampling(every: u32) -> Self {
        WatcherTimes {
            every: every.max(1),
            countdown: 1,
            entries: Vec::new(),
        }
    }

    /// Whether the event about to be dispatched is one to time.
    pub(crate) fn sample_next(&mut self) -> bool {
        self.countdown -= 1;
        if self.countdown == 0 {
            self.countdown = self.every;
            return true;
        }
        false
    }

    /// Runs `call`, adding its duration to `name`'s timing.
    #[inline(never)]
    pub(crate) fn time<T>(&mut self, name: &str, call: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = call();
        let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.record(name, ns);
        out
    }

    fn record(&mut self, name: &str, ns: u64) {
        let entry = match self.entries.iter().position(|e| e.name == name) {
            Some(i) => &mut self.entries[i],
            None => {
                self.entries.push(WatcherTiming {
                    name: name.to_string(),
                    calls: 0,
                    total_ns: 0,
                    max_ns: 0,
                });
                self.entries.last_mut().expect("just pushed")
            }
        };
        entry.calls += 1;
        entry.total_ns = entry.total_ns.saturating_add(ns);
        entry.max_ns = entry.max_ns.max(ns);
    }

    /// Every watcher timed so far, slowest mean first.
    pub fn by_mean(&self) -> Vec<&WatcherTiming> {
        let mut all: Vec<_> = self.entries.iter().collect();
        all.sort_by_key(|e| std::cmp::Reverse(e.mean_ns()));
        all
    }

    /// One event in how many is timed.
    pub fn every(&self) -> u32 {
        self.every
    }
}
