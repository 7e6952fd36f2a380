//! What goes in comes out: every field of a lifetime and its changes, exactly, including
//! the absent ones, awkward text and counters beyond i64.

mod common;

use common::{bare, lifetime, temp_db, SEC, T0};
use taskwatch_store::{Change, ChangeKind, ChangeValue, Query, Store};

#[test]
fn every_field_round_trips_exactly() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let mut full = lifetime(4242, 1, T0, T0 + 3 * SEC + 7);
    full.is_thread = true;
    full.tgid = 4200;
    full.uid_end = 0;
    full.gid_end = 0;
    full.comm = "naïve\u{1F600}".into();
    full.exe = Some("/opt/a b/'quoted\"\\".into());
    full.argv = Some(vec![
        String::new(),
        "--x=\"y\"".into(),
        "new\nline\ttab".into(),
        "ünïcødé".into(),
    ]);
    full.exit_code = None;
    full.signal = Some(11);
    full.core_dumped = true;
    if let Some(stats) = full.stats.as_mut() {
        stats.read_bytes = i64::MAX as u64;
    }
    full.changes.push(Change {
        ts_ns: T0 + 2,
        kind: ChangeKind::Euid,
        old: Some(ChangeValue::Int(1000)),
        new: ChangeValue::Int(0),
    });
    full.changes.push(Change {
        ts_ns: T0 + 3,
        kind: ChangeKind::Ptrace,
        old: None,
        new: ChangeValue::Int(77),
    });
    let plain = bare(4243, 1, T0, T0 + SEC);
    let outcome = store.insert_batch(&[full.clone(), plain.clone()]).unwrap();
    assert_eq!((outcome.inserted, outcome.duplicates), (2, 0));

    let found = store
        .query(&Query {
            with_changes: true,
            ..Query::default()
        })
        .unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].lifetime, plain, "ended first");
    assert_eq!(found[1].lifetime, full);
    assert_eq!(store.changes(found[1].id).unwrap(), full.changes);
    assert!(store.changes(found[0].id).unwrap().is_empty());
}

#[test]
fn exit_status_forms_are_kept_apart() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let mut exited = bare(1, 0, T0, T0 + 1);
    exited.exit_code = Some(255);
    let mut killed = bare(2, 0, T0, T0 + 2);
    killed.exit_code = None;
    killed.signal = Some(9);
    let mut unknown = bare(3, 0, T0, T0 + 3);
    unknown.exit_code = None;
    store.insert_batch(&[exited, killed, unknown]).unwrap();
    let found: Vec<_> = store
        .query(&Query::default())
        .unwrap()
        .into_iter()
        .map(|s| (s.lifetime.exit_code, s.lifetime.signal))
        .collect();
    assert_eq!(found, [(Some(255), None), (None, Some(9)), (None, None)]);
}

#[test]
fn the_derived_columns_are_written() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    store
        .insert_batch(&[lifetime(5, 1, T0, T0 + 2 * SEC)])
        .unwrap();
    drop(store);
    let out = taskwatch_store::sql_readonly(
        &path,
        "SELECT lifetime_ns, cpu_us, io_bytes, failed, json_extract(delays, '$.cpu[1]'), \
         argv ->> '$[2]' FROM lifetime",
    )
    .unwrap();
    use taskwatch_store::SqlValue::{Integer, Text};
    assert_eq!(
        out.rows,
        [vec![
            Integer(2 * SEC),
            Integer(1_500),
            Integer(12_288),
            Integer(0),
            Integer(345_678),
            Text("5".into())
        ]]
    );
}
