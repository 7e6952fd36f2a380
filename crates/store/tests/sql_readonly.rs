//! `history --sql` runs read-only: SELECTs work, and anything that would write (INSERT,
//! UPDATE, DELETE, DDL, setting PRAGMAs, ATTACH) is refused with the file unchanged.

mod common;

use common::{lifetime, temp_db, SEC, T0};
use taskwatch_store::{sql_readonly, sql_readonly_each, SqlValue, Store, StoreError};

fn populated() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let rows: Vec<_> = (1..=3).map(|pid| lifetime(pid, 1, T0, T0 + SEC)).collect();
    store.insert_batch(&rows).unwrap();
    (dir, path)
}

#[test]
fn selects_return_columns_and_typed_rows() {
    let (_dir, path) = populated();
    let out = sql_readonly(
        &path,
        "SELECT pid, comm, exe IS NULL AS no_exe, 1.5 AS half, x'00ff' AS raw, NULL AS missing \
         FROM lifetime ORDER BY pid LIMIT 2",
    )
    .unwrap();
    assert_eq!(
        out.columns,
        ["pid", "comm", "no_exe", "half", "raw", "missing"]
    );
    assert_eq!(
        out.rows[1],
        [
            SqlValue::Integer(2),
            SqlValue::Text("worker".into()),
            SqlValue::Integer(0),
            SqlValue::Real(1.5),
            SqlValue::Blob(vec![0, 0xff]),
            SqlValue::Null,
        ]
    );
    let mut seen = 0;
    sql_readonly_each(&path, "SELECT pid FROM lifetime", |columns, _| {
        assert_eq!(columns, ["pid"]);
        seen += 1;
        false
    })
    .unwrap();
    assert_eq!(seen, 1, "stops when asked");
}

#[test]
fn writes_are_refused_and_nothing_changes() {
    let (dir, path) = populated();
    let attached = dir.path().join("attached.db");
    let statements = [
        "INSERT INTO lifetime (pid) VALUES (9)".to_string(),
        "UPDATE lifetime SET comm = 'x'".into(),
        "DELETE FROM lifetime".into(),
        "DROP TABLE change".into(),
        "CREATE TABLE mine (x)".into(),
        "PRAGMA user_version = 7".into(),
        "WITH x AS (SELECT 1) DELETE FROM lifetime".into(),
        "VACUUM".into(),
    ];
    for sql in &statements {
        let err = sql_readonly(&path, sql).unwrap_err();
        assert!(matches!(err, StoreError::WriteRefused), "{sql}: {err:?}");
        assert!(err.to_string().contains("read-only"));
    }
    // ATTACH makes no file and allows nothing.
    let attach = format!("ATTACH '{}' AS other", attached.display());
    assert!(sql_readonly(&path, &attach).is_err());
    assert!(!attached.exists());
    // Two statements: the second never runs.
    assert!(sql_readonly(&path, "SELECT 1; DELETE FROM lifetime").is_err());
    // Garbage is an SQLite error, not a panic.
    assert!(matches!(
        sql_readonly(&path, "SELEKT nonsense").unwrap_err(),
        StoreError::Sqlite(_)
    ));
    let store = Store::open(&path).unwrap();
    assert_eq!(store.count().unwrap(), 3);
    assert_eq!(
        store.schema_version().unwrap(),
        taskwatch_store::SCHEMA_VERSION
    );
}

#[test]
fn the_examples_in_schema_md_run() {
    let (_dir, path) = populated();
    let doc = include_str!("../SCHEMA.md");
    let examples = doc
        .split("## Examples for `--sql`")
        .nth(1)
        .and_then(|rest| rest.split("```sql").nth(1))
        .and_then(|block| block.split("```").next())
        .expect("an sql block under Examples");
    let statements: Vec<&str> = examples
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(statements.len(), 3);
    for sql in statements {
        let out = sql_readonly(&path, sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert!(!out.columns.is_empty());
    }
}
