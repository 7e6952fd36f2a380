//! SIGKILL in the middle of a storm of writes: the file stays sound (integrity_check ok),
//! every lifetime the recorder acknowledged is there, exactly, and the next run continues
//! the same file. The child is this test binary itself, re-run in its storm mode.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{SEC, T0};
use taskwatch_store::{Lifetime, Query, Recorder, RecorderConfig, Store};

const DB_VAR: &str = "TASKWATCH_STORE_STORM_DB";
const OFFSET_VAR: &str = "TASKWATCH_STORE_STORM_OFFSET";

/// The storm's n-th lifetime; pids from `offset` so each run has its own.
fn storm_row(offset: u32, n: u32) -> Lifetime {
    let mut l = common::bare(offset + n, 1, T0 + i64::from(n), T0 + i64::from(n) + SEC);
    l.exe = Some("/usr/bin/storm".into());
    l.argv = Some(vec!["storm".into(), n.to_string()]);
    l.exit_code = Some((n % 256) as i32);
    l
}

/// The child: records as fast as the queue takes rows (retrying a refused row, so the
/// accepted ones are consecutive) and prints the acknowledged count whenever it grows.
#[test]
fn storm_child() {
    let Some(path) = std::env::var_os(DB_VAR) else {
        return; // Not the child: nothing to do.
    };
    let offset: u32 = std::env::var(OFFSET_VAR).unwrap().parse().unwrap();
    let config = RecorderConfig {
        batch_rows: 500,
        max_batch_delay: Duration::from_millis(100),
        queue_capacity: 4_096,
        ..RecorderConfig::default()
    };
    let recorder = Recorder::start(Path::new(&path), config).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let (mut n, mut printed) = (0, 0);
    while Instant::now() < deadline {
        if recorder.try_record(storm_row(offset, n)) {
            n += 1;
        } else {
            std::thread::sleep(Duration::from_micros(200));
        }
        let committed = recorder.stats().committed;
        if committed != printed {
            println!("committed {committed}");
            printed = committed;
        }
    }
}

/// Runs the child until it has acknowledged `kill_after` rows, SIGKILLs it, and returns
/// the last count it printed.
fn storm_then_sigkill(path: &Path, offset: u32, kill_after: u64) -> u64 {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["storm_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(DB_VAR, path)
        .env(OFFSET_VAR, offset.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    let mut acknowledged = 0;
    let mut killed = false;
    for line in lines {
        let line = line.unwrap();
        if let Some(count) = line.strip_prefix("committed ") {
            acknowledged = count.parse().unwrap();
        }
        if !killed && (acknowledged >= kill_after || started.elapsed() > Duration::from_secs(60)) {
            child.kill().unwrap(); // SIGKILL
            killed = true;
        }
        // Lines already in the pipe still count: they were acknowledged before the kill.
    }
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status:?}");
    assert!(acknowledged >= kill_after, "the storm was too slow");
    acknowledged
}

#[test]
fn sigkill_mid_storm_keeps_every_acknowledged_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("storm.db");
    let mut expected_total = 0;
    for (round, kill_after) in [(0u32, 2_000u64), (1, 9_000), (2, 60_000)] {
        let offset = round * 10_000_000;
        let acknowledged = storm_then_sigkill(&path, offset, kill_after);
        expected_total += acknowledged;

        // What a restart does: open the same file (recovering its WAL).
        let store = Store::open(&path).unwrap();
        assert_eq!(store.integrity_check().unwrap(), ["ok"], "round {round}");
        let found = store.query(&Query { ..Query::default() }).unwrap();
        let mut this_round: Vec<_> = found
            .iter()
            .filter(|s| (offset..offset + 10_000_000).contains(&s.lifetime.pid))
            .map(|s| &s.lifetime)
            .collect();
        this_round.sort_by_key(|l| l.pid);
        assert!(
            this_round.len() as u64 >= acknowledged,
            "round {round}: rows lost"
        );
        for (n, l) in this_round.iter().take(acknowledged as usize).enumerate() {
            assert_eq!(**l, storm_row(offset, n as u32), "round {round}");
        }
        assert!(found.len() as u64 >= expected_total, "earlier rounds kept");
    }
}
