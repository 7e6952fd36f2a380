//! `history --sql`: one statement of the user's own SQL, run on a connection that cannot
//! write (read-only open, query_only, no ATTACH), with anything that would write refused.

use std::fmt;
use std::path::Path;

use rusqlite::limits::Limit;
use rusqlite::types::ValueRef;

use crate::error::StoreError;
use crate::store::open_read_only_connection;

/// One value of a result row, as SQLite typed it.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// NULL.
    Null,
    /// An integer.
    Integer(i64),
    /// A floating-point number.
    Real(f64),
    /// Text (invalid UTF-8 replaced).
    Text(String),
    /// A blob.
    Blob(Vec<u8>),
}

impl fmt::Display for SqlValue {
    /// Integers and reals as numbers, text as is, NULL as empty, blobs as `x'..'` hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlValue::Null => Ok(()),
            SqlValue::Integer(i) => write!(f, "{i}"),
            SqlValue::Real(r) => write!(f, "{r}"),
            SqlValue::Text(t) => f.write_str(t),
            SqlValue::Blob(b) => {
                f.write_str("x'")?;
                for byte in b {
                    write!(f, "{byte:02x}")?;
                }
                f.write_str("'")
            }
        }
    }
}

impl From<ValueRef<'_>> for SqlValue {
    fn from(value: ValueRef<'_>) -> Self {
        match value {
            ValueRef::Null => SqlValue::Null,
            ValueRef::Integer(i) => SqlValue::Integer(i),
            ValueRef::Real(r) => SqlValue::Real(r),
            ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => SqlValue::Blob(b.to_vec()),
        }
    }
}

/// A whole result: column names and rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SqlOutput {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Rows, each with one value per column.
    pub rows: Vec<Vec<SqlValue>>,
}

/// Runs one read-only statement and collects its result. See `sql_readonly_each`.
pub fn sql_readonly(path: &Path, sql: &str) -> Result<SqlOutput, StoreError> {
    let mut rows = Vec::new();
    let columns = sql_readonly_each(path, sql, |_, row| {
        rows.push(row.to_vec());
        true
    })?;
    Ok(SqlOutput { columns, rows })
}

/// Runs one statement on a read-only connection, calling `on_row` with the column names
/// and each row until it returns false; returns the column names. A statement that would
/// write (INSERT, DELETE, CREATE, a setting PRAGMA...) is refused before it runs with
/// `WriteRefused`, ATTACH fails (no database may be attached), and several statements
/// are refused by SQLite's parser.
pub fn sql_readonly_each(
    path: &Path,
    sql: &str,
    mut on_row: impl FnMut(&[String], &[SqlValue]) -> bool,
) -> Result<Vec<String>, StoreError> {
    let conn = open_read_only_connection(path)?;
    conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
    let mut statement = conn.prepare(sql)?;
    if !statement.readonly() {
        return Err(StoreError::WriteRefused);
    }
    let columns: Vec<String> = statement.column_names().map(str::to_owned).collect();
    let width = columns.len();
    let mut rows = statement.query([])?;
    let mut values = Vec::with_capacity(width);
    while let Some(r) = rows.next()? {
        values.clear();
        for i in 0..width {
            values.push(SqlValue::from(r.get_ref(i)?));
        }
        if !on_row(&columns, &values) {
            break;
        }
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_display_plainly() {
        assert_eq!(SqlValue::Null.to_string(), "");
        assert_eq!(SqlValue::Integer(-3).to_string(), "-3");
        assert_eq!(SqlValue::Text("ls".into()).to_string(), "ls");
        assert_eq!(SqlValue::Blob(vec![0, 0xab]).to_string(), "x'00ab'");
    }
}
