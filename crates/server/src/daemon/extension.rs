//! Work a program adds to the daemon's kernel reader thread (the one that dispatches every
//! event), such as the history recorder: set up before the first event, wound down after the last.

use crate::metrics::Metrics;

/// A participant in the reader thread's life. Watchers it needs are the program's static
/// task watchers, which the reader's dispatcher calls like any other.
pub trait ReaderExtension: Send {
    /// On the reader thread, before the /proc bootstrap (its `init` events) and the
    /// first kernel event. An error stops the daemon before it is ready.
    fn start(&mut self) -> Result<(), String>;

    /// After a batch of events has been dispatched, at most every `PUBLISH` interval:
    /// publish counters.
    fn publish(&mut self, metrics: &Metrics);

    /// After the last event has been dispatched (the daemon is stopping). An error is
    /// logged; the daemon still stops.
    fn finish(&mut self, metrics: &Metrics) -> Result<(), String>;
}

/// What the history recorder did, for the metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HistoryCounts {
    /// Process lifetimes handed to the writer.
    pub processes: u64,
    /// Thread lifetimes handed to the writer.
    pub threads: u64,
    /// Lifetimes committed to the database.
    pub committed: u64,
    /// Lifetimes dropped because the writer's queue was full.
    pub lost_writer_queue: u64,
    /// Lifetimes lost in failed commits.
    pub lost_failed_commit: u64,
    /// Tasks that left without an exit event (after a kernel loss).
    pub exits_missed: u64,
    /// Process lifetimes written without statistics.
    pub without_stats: u64,
}
