//! The recorder commits by size and by time, never blocks its producer (a full queue is a
//! counted loss), and commits what is queued on flush, shutdown and drop.

mod common;

use std::time::{Duration, Instant};

use common::{lifetime, temp_db, SEC, T0};
use rusqlite::Connection;
use taskwatch_store::{Recorder, RecorderConfig, RecorderStats, Store};

fn wait_for(recorder: &Recorder, done: impl Fn(&RecorderStats) -> bool) -> RecorderStats {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stats = recorder.stats();
        if done(&stats) || Instant::now() > deadline {
            return stats;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_small_batch_is_committed_after_the_delay() {
    let (_dir, path) = temp_db();
    let config = RecorderConfig {
        batch_rows: 1_000,
        max_batch_delay: Duration::from_millis(200),
        ..RecorderConfig::default()
    };
    let recorder = Recorder::start(&path, config).unwrap();
    let started = Instant::now();
    for pid in 0..3 {
        assert!(recorder.try_record(lifetime(pid, 1, T0, T0 + SEC)));
    }
    let stats = wait_for(&recorder, |s| s.committed == 3);
    assert_eq!((stats.committed, stats.batches), (3, 1));
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "not before the delay"
    );
    // Acknowledged means readable by another connection.
    assert_eq!(Store::open_read_only(&path).unwrap().count().unwrap(), 3);
}

#[test]
fn full_batches_are_committed_at_once_and_flush_commits_the_rest() {
    let (_dir, path) = temp_db();
    let config = RecorderConfig {
        batch_rows: 10,
        max_batch_delay: Duration::from_secs(3_600),
        ..RecorderConfig::default()
    };
    let recorder = Recorder::start(&path, config).unwrap();
    for pid in 0..25 {
        assert!(recorder.try_record(lifetime(pid, 1, T0, T0 + SEC)));
    }
    let stats = wait_for(&recorder, |s| s.committed == 20);
    assert_eq!((stats.committed, stats.batches), (20, 2));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        recorder.stats().committed,
        20,
        "5 wait for the batch or the delay"
    );
    let stats = recorder.flush().unwrap();
    assert_eq!((stats.committed, stats.batches), (25, 3));
    let stats = recorder.shutdown().unwrap();
    assert_eq!(
        (stats.queued, stats.committed, stats.lost, stats.failed),
        (25, 25, 0, 0)
    );
}

#[test]
fn a_full_queue_counts_losses_without_blocking() {
    let (_dir, path) = temp_db();
    let config = RecorderConfig {
        batch_rows: 1,
        queue_capacity: 4,
        ..RecorderConfig::default()
    };
    let recorder = Recorder::start(&path, config).unwrap();
    // Another connection holds the write lock: the writer waits in its first commit.
    let blocker = Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    assert!(recorder.try_record(lifetime(0, 1, T0, T0 + SEC)));
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    for pid in 1..=100 {
        recorder.try_record(lifetime(pid, 1, T0, T0 + SEC));
    }
    assert!(started.elapsed() < Duration::from_secs(1), "never blocks");
    let stats = recorder.stats();
    assert_eq!(stats.queued + stats.lost, 101);
    assert!(stats.lost >= 95, "{stats:?}");
    blocker.execute_batch("ROLLBACK").unwrap();
    let stats = recorder.shutdown().unwrap();
    assert_eq!(stats.committed, stats.queued, "{stats:?}");
    assert_eq!(stats.failed, 0);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.count().unwrap(), stats.committed);
}

#[test]
fn dropping_the_recorder_commits_what_is_queued() {
    let (_dir, path) = temp_db();
    let config = RecorderConfig {
        max_batch_delay: Duration::from_secs(3_600),
        ..RecorderConfig::default()
    };
    let recorder = Recorder::start(&path, config).unwrap();
    for pid in 0..5 {
        assert!(recorder.try_record(lifetime(pid, 1, T0, T0 + SEC)));
    }
    drop(recorder);
    assert_eq!(Store::open(&path).unwrap().count().unwrap(), 5);
}
