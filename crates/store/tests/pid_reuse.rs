//! Pids are reused: the same pid with another start time is another lifetime, and a child
//! belongs to the parent lifetime whose span holds the child's start, not to the pid.

mod common;

use common::{bare, temp_db, SEC, T0};
use taskwatch_store::{Query, Store};

fn pids_of_tree(store: &Store, root: u32) -> Vec<(u32, i64)> {
    let found = store
        .query(&Query {
            tree_root: Some(root),
            ..Query::default()
        })
        .unwrap();
    let mut pids: Vec<_> = found
        .into_iter()
        .map(|s| (s.lifetime.pid, (s.lifetime.start_ns - T0) / SEC))
        .collect();
    pids.sort();
    pids
}

#[test]
fn same_pid_twice_is_two_lifetimes() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let first = bare(200, 100, T0 + SEC, T0 + 10 * SEC);
    let second = bare(200, 500, T0 + 20 * SEC, T0 + 30 * SEC);
    assert_eq!(store.insert_batch(&[first, second]).unwrap().inserted, 2);
    let found = store
        .query(&Query {
            pid: Some(200),
            ..Query::default()
        })
        .unwrap();
    let parents: Vec<_> = found.iter().map(|s| s.lifetime.ppid).collect();
    assert_eq!(parents, [100, 500]);
}

#[test]
fn tree_follows_the_parent_lifetime_not_the_pid() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let s = |n: i64| T0 + n * SEC;
    store
        .insert_batch(&[
            bare(100, 1, s(0), s(100)),   // R
            bare(200, 100, s(1), s(10)),  // A, child of R
            bare(300, 200, s(5), s(6)),   // G1, child of A
            bare(500, 1, s(0), s(100)),   // Q
            bare(200, 500, s(20), s(30)), // B: pid 200 again, child of Q
            bare(301, 200, s(25), s(26)), // G2, child of B: not in R's tree
            bare(100, 1, s(200), s(210)), // pid 100 again, with a child
            bare(400, 100, s(205), s(206)),
        ])
        .unwrap();
    assert_eq!(
        pids_of_tree(&store, 100),
        [(100, 0), (100, 200), (200, 1), (300, 5), (400, 205)]
    );
    assert_eq!(pids_of_tree(&store, 500), [(200, 20), (301, 25), (500, 0)]);
    assert_eq!(pids_of_tree(&store, 300), [(300, 5)]);
    assert!(pids_of_tree(&store, 999).is_empty());
}

#[test]
fn tree_of_a_still_running_root_finds_its_children() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let s = |n: i64| T0 + n * SEC;
    store
        .insert_batch(&[
            bare(900, 1, s(0), s(10)),    // an earlier, recorded lifetime of pid 900
            bare(903, 900, s(5), s(6)),   // its child
            bare(901, 900, s(50), s(52)), // child of the running 900 (not recorded)
            bare(902, 901, s(51), s(52)), // grandchild
        ])
        .unwrap();
    assert_eq!(
        pids_of_tree(&store, 900),
        [(900, 0), (901, 50), (902, 51), (903, 5)]
    );
}

#[test]
fn tree_combines_with_other_filters() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let s = |n: i64| T0 + n * SEC;
    let mut failing = bare(3, 2, s(2), s(3));
    failing.exit_code = Some(1);
    store
        .insert_batch(&[
            bare(2, 1, s(0), s(10)),
            failing,
            bare(4, 2, s(4), s(5)),
            bare(5, 1, s(4), s(5)),
        ])
        .unwrap();
    let found = store
        .query(&Query {
            tree_root: Some(2),
            failed: true,
            ..Query::default()
        })
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].lifetime.pid, 3);
    let recent = store
        .query(&Query {
            tree_root: Some(2),
            since: Some(s(4)),
            ..Query::default()
        })
        .unwrap();
    let pids: Vec<_> = recent.iter().map(|s| s.lifetime.pid).collect();
    assert_eq!(pids, [4, 2]);
}
