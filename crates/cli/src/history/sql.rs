//! `history --sql`: the user's read-only statement, printed as tab-separated columns with
//! a header, or with --json one object per row keyed by column name.

use std::path::Path;

use anyhow::Context;
use serde_json::{Map, Value};
use taskwatch_store::{sql_readonly_each, SqlValue};

use crate::output::Output;

/// Runs `statement` on the database at `path` and prints its rows as they come.
pub fn print(path: &Path, statement: &str, json: bool, out: &mut Output) -> anyhow::Result<()> {
    let mut header_done = false;
    let mut failure = None;
    sql_readonly_each(path, statement, |columns, row| {
        if json {
            let object: Map<String, Value> = columns
                .iter()
                .zip(row)
                .map(|(c, v)| (c.clone(), to_json(v)))
                .collect();
            let _ = serde_json::to_writer(&mut out.buf, &Value::Object(object));
            out.buf.push(b'\n');
        } else {
            if !header_done {
                out.buf.extend_from_slice(columns.join("\t").as_bytes());
                out.buf.push(b'\n');
                header_done = true;
            }
            let cells: Vec<String> = row.iter().map(|v| v.to_string()).collect();
            out.buf.extend_from_slice(cells.join("\t").as_bytes());
            out.buf.push(b'\n');
        }
        if let Err(e) = out.maybe_flush() {
            failure = Some(e);
        }
        failure.is_none() && !out.closed()
    })
    .context("--sql")?;
    match failure {
        Some(e) => Err(e).context("writing to standard output"),
        None => Ok(()),
    }
}

fn to_json(v: &SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Integer(i) => Value::from(*i),
        SqlValue::Real(r) => Value::from(*r),
        SqlValue::Text(t) => Value::from(t.as_str()),
        SqlValue::Blob(_) => Value::from(v.to_string()),
    }
}
