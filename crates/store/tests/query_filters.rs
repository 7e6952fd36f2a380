//! Each documented filter of `history`, alone and combined, on a small known set.

mod common;

use common::{lifetime, temp_db, SEC, T0};
use taskwatch_store::{Lifetime, Query, Store, TopKey};

/// A lifetime of `comm` running `exe`, from `start` to `end` seconds after T0, with
/// (cpu µs, rss KiB, io bytes) in its taskstats.
fn row(
    pid: u32,
    comm: &str,
    exe: &str,
    (start, end): (i64, i64),
    keys: (u64, u64, u64),
) -> Lifetime {
    let mut l = lifetime(pid, 1, T0 + start * SEC, T0 + end * SEC);
    l.comm = comm.into();
    l.exe = Some(exe.into());
    let (cpu, rss, io) = keys;
    let stats = l.stats.as_mut().unwrap();
    stats.utime_us = cpu - cpu / 4;
    stats.stime_us = cpu / 4;
    stats.hiwater_rss_kb = rss;
    stats.read_bytes = io / 2;
    stats.write_bytes = io - io / 2;
    l
}

/// sshd as root, exits 0; bash as 1000, exits 1; sudo from 1000 to root, killed;
/// another bash, as 1001, without taskstats.
fn store() -> (tempfile::TempDir, Store) {
    let (dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let mut sshd = row(10, "sshd", "/usr/sbin/sshd", (0, 5), (100, 1_000, 10));
    (sshd.uid_start, sshd.uid_end) = (0, 0);
    let mut bash = row(11, "bash", "/bin/bash", (1, 20), (5_000, 200, 5_000));
    bash.exit_code = Some(1);
    let mut sudo = row(12, "sudo", "/usr/bin/sudo", (10, 12), (300, 9_000, 0));
    (sudo.uid_start, sudo.uid_end) = (1000, 0);
    (sudo.exit_code, sudo.signal) = (None, Some(9));
    let mut other_bash = row(13, "bash", "/usr/bin/bash", (30, 31), (0, 0, 0));
    (other_bash.uid_start, other_bash.uid_end) = (1001, 1001);
    other_bash.stats = None;
    store.insert_batch(&[sshd, bash, sudo, other_bash]).unwrap();
    (dir, store)
}

fn pids(store: &Store, query: Query) -> Vec<u32> {
    store
        .query(&query)
        .unwrap()
        .into_iter()
        .map(|s| s.lifetime.pid)
        .collect()
}

#[test]
fn no_filter_lists_all_in_end_order() {
    let (_dir, store) = store();
    assert_eq!(pids(&store, Query::default()), [10, 12, 11, 13]);
}

#[test]
fn time_range_means_overlap() {
    let (_dir, store) = store();
    let at = |s: i64| Some(T0 + s * SEC);
    let since = |s| Query {
        since: at(s),
        ..Query::default()
    };
    assert_eq!(pids(&store, since(11)), [12, 11, 13]);
    assert_eq!(pids(&store, since(31)), [13]);
    assert!(pids(&store, since(32)).is_empty());
    let until = Query {
        until: at(5),
        ..Query::default()
    };
    assert_eq!(pids(&store, until), [10, 11]);
    let window = Query {
        since: at(6),
        until: at(10),
        ..Query::default()
    };
    assert_eq!(pids(&store, window), [12, 11]);
}

#[test]
fn comm_exe_uid_pid() {
    let (_dir, store) = store();
    let comm = |c: &str| Query {
        comm: Some(c.into()),
        ..Query::default()
    };
    assert_eq!(pids(&store, comm("bash")), [11, 13]);
    assert!(pids(&store, comm("bas")).is_empty(), "exact match");
    assert!(
        pids(&store, comm("x' OR '1'='1")).is_empty(),
        "bound, not spliced"
    );
    let exe = Query {
        exe: Some("/bin/bash".into()),
        ..Query::default()
    };
    assert_eq!(pids(&store, exe), [11]);
    let uid = |u| Query {
        uid: Some(u),
        ..Query::default()
    };
    assert_eq!(pids(&store, uid(0)), [10, 12], "at end");
    assert_eq!(pids(&store, uid(1000)), [12, 11], "at start");
    assert_eq!(pids(&store, uid(1001)), [13]);
    assert!(pids(&store, uid(7)).is_empty());
    let pid = Query {
        pid: Some(12),
        ..Query::default()
    };
    assert_eq!(pids(&store, pid), [12]);
}

#[test]
fn failed_is_non_zero_exit_or_signal() {
    let (_dir, store) = store();
    let failed = Query {
        failed: true,
        ..Query::default()
    };
    assert_eq!(pids(&store, failed), [12, 11]);
}

#[test]
fn top_ranks_largest_first_and_skips_rows_without_the_key() {
    let (_dir, store) = store();
    let top = |key, n| Query {
        top: Some((key, n)),
        ..Query::default()
    };
    assert_eq!(pids(&store, top(TopKey::Cpu, 2)), [11, 12]);
    assert_eq!(pids(&store, top(TopKey::Rss, 1)), [12]);
    assert_eq!(pids(&store, top(TopKey::Io, 10)), [11, 10, 12]);
    assert_eq!(pids(&store, top(TopKey::Lifetime, 2)), [11, 10]);
    let recent = Query {
        since: Some(T0 + 11 * SEC),
        ..top(TopKey::Cpu, 10)
    };
    assert_eq!(pids(&store, recent), [11, 12]);
    let capped = Query {
        limit: Some(1),
        ..top(TopKey::Cpu, 10)
    };
    assert_eq!(pids(&store, capped), [11]);
}

#[test]
fn limit_keeps_the_most_recent_in_end_order() {
    let (_dir, store) = store();
    let limit = Query {
        limit: Some(2),
        ..Query::default()
    };
    assert_eq!(pids(&store, limit), [11, 13]);
    let bash_recent = Query {
        comm: Some("bash".into()),
        since: Some(T0 + 25 * SEC),
        ..Query::default()
    };
    assert_eq!(pids(&store, bash_recent), [13]);
}

#[test]
fn documented_queries_use_their_indexes() {
    let (_dir, store) = store();
    let plan = |query: Query| store.explain(&query).unwrap().join("\n");
    let since = Some(T0);
    let cases = [
        (
            Query {
                since,
                top: Some((TopKey::Cpu, 10)),
                ..Query::default()
            },
            "COVERING INDEX lifetime_end",
        ),
        (
            Query {
                comm: Some("bash".into()),
                ..Query::default()
            },
            "INDEX lifetime_comm",
        ),
        (
            Query {
                exe: Some("/bin/bash".into()),
                ..Query::default()
            },
            "INDEX lifetime_exe",
        ),
        (
            Query {
                uid: Some(0),
                ..Query::default()
            },
            "INDEX lifetime_uid_changed",
        ),
        (
            Query {
                failed: true,
                since,
                ..Query::default()
            },
            "INDEX lifetime_failed",
        ),
        (
            Query {
                tree_root: Some(1),
                ..Query::default()
            },
            "INDEX lifetime_ppid",
        ),
    ];
    for (query, index) in cases {
        let plan = plan(query);
        assert!(plan.contains(index), "{index} not in\n{plan}");
        assert!(!plan.contains("SCAN lifetime\n"), "full scan in\n{plan}");
    }
}
