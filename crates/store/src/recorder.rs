//! The recorder: a writer thread that owns the write connection, fed through a bounded
//! queue that never blocks the producer (a full queue counts a loss), committing in batches.
//!
//! A batch is committed when it holds `batch_rows` lifetimes or `max_batch_delay` after
//! its first one arrived, so a SIGKILL loses at most about that long of history (what is
//! queued or in the open batch); what `stats().committed` counts is on disk. Memory is
//! bounded by `queue_capacity + batch_rows` lifetimes (about 20 MB by default).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::StoreError;
use crate::record::Lifetime;
use crate::retention::Retention;
use crate::store::Store;

/// How the recorder batches, queues and prunes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecorderConfig {
    /// Commit when a batch holds this many lifetimes.
    pub batch_rows: usize,
    /// Commit this long after a batch's first lifetime arrived, however small it is.
    pub max_batch_delay: Duration,
    /// Lifetimes that may wait for the writer; beyond that `try_record` counts a loss.
    pub queue_capacity: usize,
    /// What history to keep.
    pub retention: Retention,
    /// How often retention runs, after a commit or when idle (and after every commit
    /// while a pass has left work for the next).
    pub retention_interval: Duration,
    /// At most this many lifetimes deleted per retention pass.
    pub retention_rows_per_pass: u64,
}

impl Default for RecorderConfig {
    /// 10,000 rows or 1 s per batch, 32,768 queued (about 0.3 s at 100,000 lifetimes/s),
    /// retention every 10 s, 20,000 rows a pass.
    ///
    /// Measured (store_bench): batches of 10,000 ingest 1.2-2.2× faster than batches of
    /// 1,000, since each index page touched is written once per batch.
    fn default() -> Self {
        RecorderConfig {
            batch_rows: 10_000,
            max_batch_delay: Duration::from_secs(1),
            queue_capacity: 32_768,
            retention: Retention::default(),
            retention_interval: Duration::from_secs(10),
            retention_rows_per_pass: 20_000,
        }
    }
}

/// The recorder's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecorderStats {
    /// Lifetimes accepted by `try_record`.
    pub queued: u64,
    /// Lifetimes refused because the queue was full or the writer had stopped.
    pub lost: u64,
    /// Lifetimes in committed batches (acknowledged: on disk, new or already there).
    pub committed: u64,
    /// Of those, lifetimes already present (same pid and start time).
    pub duplicates: u64,
    /// Batches committed.
    pub batches: u64,
    /// Lifetimes whose batch failed to commit (logged), e.g. on a full disk.
    pub failed: u64,
    /// Lifetimes deleted by retention.
    pub retention_deleted: u64,
}

#[derive(Debug, Default)]
struct Counters {
    queued: AtomicU64,
    lost: AtomicU64,
    committed: AtomicU64,
    duplicates: AtomicU64,
    batches: AtomicU64,
    failed: AtomicU64,
    retention_deleted: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> RecorderStats {
        let get = |c: &AtomicU64| c.load(Ordering::Acquire);
        RecorderStats {
            queued: get(&self.queued),
            lost: get(&self.lost),
            committed: get(&self.committed),
            duplicates: get(&self.duplicates),
            batches: get(&self.batches),
            failed: get(&self.failed),
            retention_deleted: get(&self.retention_deleted),
        }
    }
}

enum Message {
    // Boxed so the queue's preallocated slots stay small.
    Record(Box<Lifetime>),
    Flush(SyncSender<()>),
}

/// Records lifetimes on a writer thread. Dropping it commits what is queued, as
/// `shutdown` does, without reporting.
#[derive(Debug)]
pub struct Recorder {
    queue: Option<SyncSender<Message>>,
    writer: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl Recorder {
    /// Opens (or creates) the database at `path` and starts the writer thread.
    pub fn start(
        path: impl AsRef<std::path::Path>,
        config: RecorderConfig,
    ) -> Result<Recorder, StoreError> {
        Recorder::with_store(Store::open(path)?, config)
    }

    /// Starts the writer thread on an open store.
    pub fn with_store(store: Store, config: RecorderConfig) -> Result<Recorder, StoreError> {
        let (queue, incoming) = mpsc::sync_channel(config.queue_capacity.max(1));
        let counters = Arc::new(Counters::default());
        let writer = Writer {
            store,
            batch: Vec::with_capacity(config.batch_rows.max(1)),
            batch_started: None,
            last_retention: None,
            retention_behind: false,
            config,
            counters: Arc::clone(&counters),
        };
        let writer = std::thread::Builder::new()
            .name("taskwatch-store".into())
            .spawn(move || writer.run(incoming))
            .map_err(StoreError::Spawn)?;
        Ok(Recorder {
            queue: Some(queue),
            writer: Some(writer),
            counters,
        })
    }

    /// Queues a lifetime without ever blocking. Returns false, counting a loss, when the
    /// queue is full or the writer has stopped.
    pub fn try_record(&self, lifetime: Lifetime) -> bool {
        let sent = match &self.queue {
            Some(queue) => match queue.try_send(Message::Record(Box::new(lifetime))) {
                Ok(()) => true,
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
            },
            None => false,
        };
        let counter = if sent {
            &self.counters.queued
        } else {
            &self.counters.lost
        };
        counter.fetch_add(1, Ordering::AcqRel);
        sent
    }

    /// The counters now.
    pub fn stats(&self) -> RecorderStats {
        self.counters.snapshot()
    }

    /// Waits until everything queued before this call is committed, then returns the
    /// counters. Blocks while the queue is full.
    pub fn flush(&self) -> Result<RecorderStats, StoreError> {
        let queue = self.queue.as_ref().ok_or(StoreError::RecorderStopped)?;
        let (done, wait) = mpsc::sync_channel(1);
        queue
            .send(Message::Flush(done))
            .map_err(|_| StoreError::RecorderStopped)?;
        wait.recv().map_err(|_| StoreError::RecorderStopped)?;
        Ok(self.stats())
    }

    /// Commits everything queued, stops the writer and returns the final counters.
    pub fn shutdown(mut self) -> Result<RecorderStats, StoreError> {
        self.stop()?;
        Ok(self.stats())
    }

    fn stop(&mut self) -> Result<(), StoreError> {
        // Closing the queue makes the writer drain it, commit and return.
        self.queue.take();
        match self.writer.take() {
            Some(writer) => writer.join().map_err(|_| StoreError::RecorderStopped),
            None => Ok(()),
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if self.stop().is_err() {
            tracing::warn!("the history writer thread panicked");
        }
    }
}

/// The writer thread's state.
struct Writer {
    store: Store,
    config: RecorderConfig,
    batch: Vec<Lifetime>,
    batch_started: Option<Instant>,
    last_retention: Option<Instant>,
    retention_behind: bool,
    counters: Arc<Counters>,
}

impl Writer {
    fn run(mut self, incoming: Receiver<Message>) {
        self.enforce_retention();
        loop {
            match incoming.recv_timeout(self.wait_time()) {
                Ok(Message::Record(lifetime)) => {
                    if self.batch.is_empty() {
                        self.batch_started = Some(Instant::now());
                    }
                    self.batch.push(*lifetime);
                    if self.batch.len() >= self.config.batch_rows {
                        self.commit();
                    }
                }
                Ok(Message::Flush(done)) => {
                    self.commit();
                    let _ = done.send(());
                }
                Err(RecvTimeoutError::Timeout) => {
                    if self.retention_due() {
                        self.enforce_retention();
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if self
                .batch_started
                .is_some_and(|t| t.elapsed() >= self.config.max_batch_delay)
            {
                self.commit();
            }
        }
        self.commit();
        if let Err(e) = self.store.optimize() {
            tracing::warn!(error = %e, "PRAGMA optimize failed");
        }
    }

    /// Until the open batch is due, else until retention is.
    fn wait_time(&self) -> Duration {
        match self.batch_started {
            Some(t) => self.config.max_batch_delay.saturating_sub(t.elapsed()),
            None if self.config.retention.is_unlimited() => Duration::from_secs(3_600),
            None => self.config.retention_interval,
        }
    }

    fn commit(&mut self) {
        self.batch_started = None;
        if self.batch.is_empty() {
            return;
        }
        let rows = self.batch.len() as u64;
        match self.store.insert_batch(&self.batch) {
            Ok(outcome) => {
                self.counters
                    .duplicates
                    .fetch_add(outcome.duplicates, Ordering::AcqRel);
                self.counters.batches.fetch_add(1, Ordering::AcqRel);
                self.counters.committed.fetch_add(rows, Ordering::AcqRel);
            }
            Err(e) => {
                tracing::warn!(error = %e, rows, "could not write a batch of lifetimes");
                self.counters.failed.fetch_add(rows, Ordering::AcqRel);
            }
        }
        self.batch.clear();
        if self.retention_due() {
            self.enforce_retention();
        }
    }

    fn retention_due(&self) -> bool {
        if self.config.retention.is_unlimited() {
            return false;
        }
        self.retention_behind
            || self
                .last_retention
                .is_none_or(|t| t.elapsed() >= self.config.retention_interval)
    }

    fn enforce_retention(&mut self) {
        if self.config.retention.is_unlimited() {
            return;
        }
        self.last_retention = Some(Instant::now());
        let now_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        match self.store.enforce_retention(
            &self.config.retention,
            now_ns,
            self.config.retention_rows_per_pass,
        ) {
            Ok(outcome) => {
                self.retention_behind = !outcome.complete;
                self.counters
                    .retention_deleted
                    .fetch_add(outcome.deleted, Ordering::AcqRel);
            }
            Err(e) => {
                self.retention_behind = false;
                tracing::warn!(error = %e, "retention failed");
            }
        }
    }
}
