//! Opening brings a file to the current schema: from version 0 (empty) forward, in one
//! transaction; files of a newer version, or not ours, are refused and left untouched.

mod common;

use common::temp_db;
use rusqlite::Connection;
use taskwatch_store::{Store, StoreError, SCHEMA_VERSION};

fn user_version(path: &std::path::Path) -> i64 {
    Connection::open(path)
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}

#[test]
fn a_new_file_gets_the_current_schema_and_settings() {
    let (_dir, path) = temp_db();
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    drop(store);
    let conn = Connection::open(&path).unwrap();
    let pragma = |name| -> String {
        conn.query_row(
            &format!("SELECT CAST({name} AS TEXT) FROM pragma_{name}"),
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(pragma("journal_mode"), "wal");
    assert_eq!(pragma("auto_vacuum"), "2", "incremental");
    assert_eq!(pragma("application_id"), "1953982579");
}

#[test]
fn version_0_files_are_migrated() {
    let (dir, _) = temp_db();
    // A zero-length file, and an SQLite file with no tables and user_version 0.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let blank = dir.path().join("blank.db");
    Connection::open(&blank)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); DROP TABLE t;")
        .unwrap();
    assert_eq!(user_version(&blank), 0);
    for path in [empty, blank] {
        let mut store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        store
            .insert_batch(&[common::bare(1, 0, 1, 2)])
            .expect("usable after migration");
        drop(store);
        // Opening again migrates nothing and keeps the row.
        assert_eq!(Store::open(&path).unwrap().count().unwrap(), 1);
    }
}

#[test]
fn a_newer_schema_is_refused_and_left_untouched() {
    let (_dir, path) = temp_db();
    drop(Store::open(&path).unwrap());
    let newer = SCHEMA_VERSION + 1;
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", newer)
        .unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found, supported, .. }
            if found == newer && supported == SCHEMA_VERSION),
        "{err:?}"
    );
    assert!(err
        .to_string()
        .contains("newer than this taskwatch understands"));
    assert!(matches!(
        Store::open_read_only(&path).unwrap_err(),
        StoreError::NewerSchema { .. }
    ));
    assert_eq!(user_version(&path), i64::from(newer));
}

#[test]
fn other_programs_databases_are_refused() {
    let (dir, _) = temp_db();
    let foreign = dir.path().join("foreign.db");
    Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE accounts (id INTEGER);")
        .unwrap();
    assert!(matches!(
        Store::open(&foreign).unwrap_err(),
        StoreError::NotHistory { .. }
    ));
    let tagged = dir.path().join("tagged.db");
    Connection::open(&tagged)
        .unwrap()
        .pragma_update(None, "application_id", 42)
        .unwrap();
    let err = Store::open(&tagged).unwrap_err();
    assert!(err.to_string().contains("application_id is 0x2a"), "{err}");
    let tables: i64 = Connection::open(&foreign)
        .unwrap()
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 1, "left as it was");
}

#[test]
fn read_only_opening_never_creates_or_migrates() {
    let (dir, path) = temp_db();
    assert!(matches!(
        Store::open_read_only(&path).unwrap_err(),
        StoreError::Open { .. }
    ));
    assert!(!path.exists());
    let blank = dir.path().join("blank.db");
    Connection::open(&blank)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); DROP TABLE t;")
        .unwrap();
    assert!(matches!(
        Store::open_read_only(&blank).unwrap_err(),
        StoreError::OlderSchema { found: 0, .. }
    ));
    assert_eq!(user_version(&blank), 0);
}
