//! Retention deletes the oldest lifetimes, with their changes, past a maximum age or size,
//! in bounded passes, and the file gives the space back.

mod common;

use std::time::Duration;

use common::{lifetime, temp_db, SEC, T0};
use taskwatch_store::{Recorder, RecorderConfig, Retention, Store};

const DAY: i64 = 86_400 * SEC;

fn change_rows(store: &Store) -> i64 {
    let out = taskwatch_store::sql_readonly(store.path(), "SELECT count(*) FROM change").unwrap();
    match out.rows[0][0] {
        taskwatch_store::SqlValue::Integer(n) => n,
        ref other => panic!("{other:?}"),
    }
}

/// `n` lifetimes ending evenly over the `days` days before T0, oldest first.
fn history(n: u32, days: i64) -> Vec<taskwatch_store::Lifetime> {
    (0..n)
        .map(|i| {
            let end = T0 - days * DAY + i64::from(i) * (days * DAY / i64::from(n));
            lifetime(i, 1, end - SEC, end)
        })
        .collect()
}

#[test]
fn max_age_deletes_older_lifetimes_and_their_changes() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    store.insert_batch(&history(1_000, 10)).unwrap();
    assert_eq!(change_rows(&store), 1_000);
    let keep_two_days = Retention {
        max_age: Some(Duration::from_secs(2 * 86_400)),
        max_bytes: None,
    };
    let outcome = store
        .enforce_retention(&keep_two_days, T0, u64::MAX)
        .unwrap();
    assert_eq!(outcome.deleted, 800);
    assert!(outcome.complete);
    assert_eq!(store.count().unwrap(), 200);
    assert_eq!(change_rows(&store), 200, "cascaded");
    let oldest = store.query(&taskwatch_store::Query::default()).unwrap()[0]
        .lifetime
        .end_ns;
    assert!(oldest >= T0 - 2 * DAY);
    let again = store
        .enforce_retention(&keep_two_days, T0, u64::MAX)
        .unwrap();
    assert_eq!(again.deleted, 0);
}

#[test]
fn a_pass_stops_at_its_budget_and_the_next_continues() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    store.insert_batch(&history(5_000, 10)).unwrap();
    let keep_one_day = Retention {
        max_age: Some(Duration::from_secs(86_400)),
        max_bytes: None,
    };
    let first = store.enforce_retention(&keep_one_day, T0, 3_000).unwrap();
    assert_eq!((first.deleted, first.complete), (3_000, false));
    let second = store.enforce_retention(&keep_one_day, T0, 3_000).unwrap();
    assert_eq!((second.deleted, second.complete), (1_500, true));
    assert_eq!(store.count().unwrap(), 500);
}

#[test]
fn max_bytes_deletes_the_oldest_and_the_file_shrinks() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let rows = history(20_000, 10);
    for batch in rows.chunks(1_000) {
        store.insert_batch(batch).unwrap();
    }
    store.checkpoint().unwrap();
    let before = store.size().unwrap();
    let max_bytes = before.file_bytes / 2;
    let keep_half = Retention {
        max_age: None,
        max_bytes: Some(max_bytes),
    };
    let outcome = store.enforce_retention(&keep_half, T0, u64::MAX).unwrap();
    assert!(outcome.complete && outcome.deleted > 0 && outcome.vacuumed_pages > 0);
    store.checkpoint().unwrap();
    let after = store.size().unwrap();
    assert!(after.used_bytes() <= max_bytes / 10 * 9, "{after:?}");
    assert!(
        after.file_bytes <= max_bytes,
        "file {} > {max_bytes}",
        after.file_bytes
    );
    assert_eq!(after.freelist_count, 0);
    // The newest are kept, the oldest went.
    let left = store.count().unwrap();
    assert_eq!(left + outcome.deleted, 20_000);
    let pids =
        taskwatch_store::sql_readonly(&path, "SELECT min(pid), max(pid) FROM lifetime").unwrap();
    use taskwatch_store::SqlValue::Integer;
    assert_eq!(
        pids.rows[0],
        [Integer(outcome.deleted as i64), Integer(19_999)]
    );
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);
}

#[test]
fn the_recorder_keeps_the_file_bounded_as_it_goes() {
    let (_dir, path) = temp_db();
    let max_bytes = 2 << 20;
    let config = RecorderConfig {
        batch_rows: 500,
        retention: Retention {
            max_age: Some(Duration::from_secs(86_400)),
            max_bytes: Some(max_bytes),
        },
        retention_interval: Duration::ZERO,
        ..RecorderConfig::default()
    };
    let recorder = Recorder::start(&path, config).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    // 2,000 lifetimes two days old, then 30,000 fresh ones: about 15 MB unpruned.
    for i in 0..32_000u32 {
        let end = if i < 2_000 { now - 2 * DAY } else { now };
        let mut l = lifetime(i, 1, end - i64::from(i), end - i64::from(i) + 1);
        l.argv = Some(vec!["x".repeat(200)]);
        while !recorder.try_record(l.clone()) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let stats = recorder.shutdown().unwrap();
    assert_eq!(stats.committed, 32_000);
    assert!(stats.retention_deleted > 2_000, "{stats:?}");
    let store = Store::open(&path).unwrap();
    store.checkpoint().unwrap();
    let size = store.size().unwrap();
    assert!(size.file_bytes <= max_bytes, "{size:?}");
    assert_eq!(
        store.count().unwrap(),
        32_000 - stats.retention_deleted,
        "{stats:?}"
    );
    let old = taskwatch_store::sql_readonly(
        &path,
        &format!("SELECT count(*) FROM lifetime WHERE end_ns < {}", now - DAY),
    )
    .unwrap();
    assert_eq!(old.rows[0][0], taskwatch_store::SqlValue::Integer(0));
}
