//! A restart continues the same file: reopening keeps every row, re-inserting a lifetime
//! already there (same pid and start time) is a no-op, and new rows go on after.

mod common;

use common::{lifetime, temp_db, SEC, T0};
use taskwatch_store::{Query, Recorder, RecorderConfig, Store};

#[test]
fn reinserting_the_same_lifetime_is_idempotent() {
    let (_dir, path) = temp_db();
    let first: Vec<_> = (0..100).map(|i| lifetime(i, 1, T0, T0 + SEC)).collect();
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.insert_batch(&first).unwrap().inserted, 100);
    drop(store);

    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.count().unwrap(), 100);
    let mut replay = first.clone();
    replay[0].comm = "changed".into();
    let outcome = store.insert_batch(&replay).unwrap();
    assert_eq!((outcome.inserted, outcome.duplicates), (0, 100));
    let kept = store
        .query(&Query {
            pid: Some(0),
            with_changes: true,
            ..Query::default()
        })
        .unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        kept[0].lifetime, first[0],
        "the first write wins, changes not doubled"
    );

    let more: Vec<_> = (100..150)
        .map(|i| lifetime(i, 1, T0, T0 + 2 * SEC))
        .collect();
    assert_eq!(store.insert_batch(&more).unwrap().inserted, 50);
    assert_eq!(store.count().unwrap(), 150);
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);
}

#[test]
fn a_restarted_recorder_continues_the_same_file() {
    let (_dir, path) = temp_db();
    for round in 0..3u32 {
        let recorder = Recorder::start(&path, RecorderConfig::default()).unwrap();
        for i in 0..1_000 {
            assert!(recorder.try_record(lifetime(round * 1_000 + i, 1, T0, T0 + SEC)));
        }
        // The previous round's last rows again, as a restart replaying them would.
        if round > 0 {
            assert!(recorder.try_record(lifetime(round * 1_000 - 1, 1, T0, T0 + SEC)));
        }
        let stats = recorder.shutdown().unwrap();
        assert_eq!(stats.committed, 1_000 + u64::from(round > 0));
        assert_eq!(stats.duplicates, u64::from(round > 0));
        assert_eq!(stats.lost, 0);
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.count().unwrap(), 3_000);
}
