//! Shared by the store's integration tests: lifetimes with every field set, and a fresh
//! database in a temporary directory.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use taskwatch_store::{Change, ChangeKind, ChangeValue, Delay, Lifetime, TaskStats};

/// 2026-11-21T05:39:07Z.
pub const T0: i64 = 1_795_239_547_000_000_000;
pub const SEC: i64 = 1_000_000_000;

/// A temporary directory and a database path inside a not-yet-existing subdirectory.
pub fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested/dir/history.db");
    (dir, path)
}

/// A process lifetime with every field set, living `start_ns..end_ns`.
pub fn lifetime(pid: u32, ppid: u32, start_ns: i64, end_ns: i64) -> Lifetime {
    let mut delays = BTreeMap::new();
    delays.insert(
        "cpu".to_string(),
        Delay {
            count: 12,
            total_ns: 345_678,
        },
    );
    delays.insert(
        "blkio".to_string(),
        Delay {
            count: 1,
            total_ns: 9_000_000,
        },
    );
    Lifetime {
        pid,
        tgid: pid,
        ppid,
        is_thread: false,
        uid_start: 1000,
        gid_start: 1000,
        uid_end: 1000,
        gid_end: 1000,
        start_ns,
        end_ns,
        comm: "worker".into(),
        exe: Some("/usr/bin/worker".into()),
        argv: Some(vec!["worker".into(), "--n".into(), pid.to_string()]),
        exit_code: Some(0),
        signal: None,
        core_dumped: false,
        stats: Some(TaskStats {
            utime_us: 1_000,
            stime_us: 500,
            minflt: 300,
            majflt: 2,
            hiwater_rss_kb: 4_096,
            hiwater_vm_kb: 10_240,
            read_bytes: 8_192,
            write_bytes: 4_096,
            nvcsw: 7,
            nivcsw: 3,
            delays,
        }),
        changes: vec![Change {
            ts_ns: start_ns + 1,
            kind: ChangeKind::Comm,
            old: Some(ChangeValue::Text("bash".into())),
            new: ChangeValue::Text("worker".into()),
        }],
    }
}

/// A bare lifetime: no exe, argv, taskstats or changes.
pub fn bare(pid: u32, ppid: u32, start_ns: i64, end_ns: i64) -> Lifetime {
    Lifetime {
        pid,
        tgid: pid,
        ppid,
        start_ns,
        end_ns,
        comm: format!("p{pid}"),
        exit_code: Some(0),
        ..Lifetime::default()
    }
}
