//! Brings a database to the current schema on open: forward migrations in one immediate
//! transaction; refuses files of a newer version and SQLite files that are not ours.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::error::StoreError;
use crate::schema::{self, APPLICATION_ID, SCHEMA_VERSION};

/// One step: the SQL that takes a database from `version - 1` to `version`.
struct Migration {
    version: u32,
    sql: &'static str,
}

/// Every step, oldest first; version 0 is an empty file.
const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    sql: schema::V1,
}];

/// What `migrate` found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Migrated {
    /// The version the file had.
    pub(crate) from: u32,
    /// The version it has now.
    pub(crate) to: u32,
}

/// Applies the pending migrations, all or none. Another process migrating at the same
/// time is serialised by the immediate transaction (and the busy timeout).
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<Migrated, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let from = check_version(&tx, path)?;
    for step in MIGRATIONS.iter().filter(|m| m.version > from) {
        tx.execute_batch(step.sql)?;
    }
    if from < SCHEMA_VERSION {
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    }
    tx.commit()?;
    Ok(Migrated {
        from,
        to: SCHEMA_VERSION,
    })
}

/// The file's schema version after checking it is ours and not from the future.
pub(crate) fn check_version(conn: &Connection, path: &Path) -> Result<u32, StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let application_id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    if application_id != 0 && application_id != APPLICATION_ID {
        return Err(StoreError::NotHistory {
            path: path.to_owned(),
            why: format!("application_id is {application_id:#x}"),
        });
    }
    let found = u32::try_from(version).map_err(|_| StoreError::NotHistory {
        path: path.to_owned(),
        why: format!("user_version is {version}"),
    })?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found == 0 {
        let tables: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
            [],
            |r| r.get(0),
        )?;
        if tables > 0 {
            return Err(StoreError::NotHistory {
                path: path.to_owned(),
                why: format!("it has {tables} tables but no schema version"),
            });
        }
    }
    Ok(found)
}
