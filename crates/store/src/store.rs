//! An open history database: the connection settings (WAL, synchronous=NORMAL, busy
//! timeout), migration on open, batched inserts, and the file's size and health.
//!
//! Durability: with WAL and `synchronous=NORMAL`, a committed transaction is in the WAL
//! file when `commit` returns, so killing the process (even SIGKILL) loses nothing that
//! was committed and never corrupts the file. A power loss or kernel crash can lose the
//! transactions committed since the last checkpoint's fsync, but still not corrupt it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::StoreError;
use crate::migrations;
use crate::record::{Change, Lifetime};
use crate::row;
use crate::schema::SCHEMA_VERSION;

/// How long a statement waits for another connection's lock before failing with BUSY.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The WAL file is truncated back to this after a checkpoint.
const JOURNAL_SIZE_LIMIT_BYTES: i64 = 16 << 20;

/// The writer's page cache, KiB: enough to keep the indexes' hot pages during a storm.
const WRITER_CACHE_KIB: i64 = 32 << 10;

/// A connection to a history database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// What one `insert_batch` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchOutcome {
    /// New lifetimes written.
    pub inserted: u64,
    /// Lifetimes already present (same pid and start time), left as they were.
    pub duplicates: u64,
}

/// The database's size, from SQLite's page counts and the files on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreSize {
    /// Bytes per page.
    pub page_size: u64,
    /// Pages in the database, WAL content included.
    pub page_count: u64,
    /// Of those, pages free for reuse (returned to the OS by incremental vacuum).
    pub freelist_count: u64,
    /// The main file's length on disk (shrinks only at a checkpoint).
    pub file_bytes: u64,
    /// The WAL file's length on disk (0 when absent).
    pub wal_bytes: u64,
}

impl StoreSize {
    /// Bytes holding data: (page_count − freelist_count) × page_size.
    pub fn used_bytes(&self) -> u64 {
        self.page_count.saturating_sub(self.freelist_count) * self.page_size
    }
}

impl Store {
    /// Opens (creating it and its directory if needed) a database for reading and writing,
    /// and migrates it to the current schema. Refuses newer schemas and foreign files.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_owned();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        let open_error = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let mut conn = Connection::open(&path).map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        // Only takes effect on a new file (before its first table): lets retention give
        // pages back to the file system with `incremental_vacuum`.
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")
            .map_err(open_error)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(open_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %path.display(), mode, "could not switch to WAL");
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT_BYTES)?;
        conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
        let migrated = migrations::migrate(&mut conn, &path)?;
        if migrated.from != migrated.to {
            tracing::info!(path = %path.display(), from = migrated.from, to = migrated.to, "migrated history schema");
        }
        Ok(Store { conn, path })
    }

    /// Opens an existing database read-only (`PRAGMA query_only` too). Its schema must be
    /// the current one: migrating needs a writer.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_owned();
        let conn = open_read_only_connection(&path)?;
        let found = migrations::check_version(&conn, &path)?;
        if found < SCHEMA_VERSION {
            return Err(StoreError::OlderSchema {
                path,
                found,
                current: SCHEMA_VERSION,
            });
        }
        Ok(Store { conn, path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's schema version (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        let version: u32 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        Ok(version)
    }

    /// Writes lifetimes (with their changes) in one transaction: all or none. A lifetime
    /// already present (same pid and start_ns) is skipped, so replaying a batch is harmless.
    pub fn insert_batch(&mut self, lifetimes: &[Lifetime]) -> Result<BatchOutcome, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcome = BatchOutcome::default();
        {
            let mut inserter = row::Inserter::new(&tx)?;
            for l in lifetimes {
                if inserter.insert(l)? {
                    outcome.inserted += 1;
                } else {
                    outcome.duplicates += 1;
                }
            }
        }
        tx.commit()?;
        Ok(outcome)
    }

    /// The changes recorded for a lifetime, oldest first.
    pub fn changes(&self, lifetime_id: i64) -> Result<Vec<Change>, StoreError> {
        let mut select = self.conn.prepare_cached(row::SELECT_CHANGES)?;
        let mut rows = select.query([lifetime_id])?;
        let mut changes = Vec::new();
        while let Some(r) = rows.next()? {
            changes.push(row::decode_change(r, lifetime_id)?);
        }
        Ok(changes)
    }

    /// Number of lifetimes stored.
    pub fn count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM lifetime", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Page counts and file lengths.
    pub fn size(&self) -> Result<StoreSize, StoreError> {
        let pragma = |name| -> Result<u64, StoreError> {
            let value: i64 = self.conn.pragma_query_value(None, name, |r| r.get(0))?;
            Ok(u64::try_from(value).unwrap_or(0))
        };
        let file_len = |path: &Path| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        Ok(StoreSize {
            page_size: pragma("page_size")?,
            page_count: pragma("page_count")?,
            freelist_count: pragma("freelist_count")?,
            file_bytes: file_len(&self.path),
            wal_bytes: file_len(Path::new(&wal)),
        })
    }

    /// Copies the WAL into the main file and truncates the WAL: the file then has its
    /// final length (shrunk by any incremental vacuum). Readers may make it partial.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Refreshes the planner's statistics where SQLite thinks they are stale
    /// (`PRAGMA optimize`); cheap, and what keeps the documented queries on their indexes.
    pub fn optimize(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("PRAGMA optimize")?;
        Ok(())
    }

    /// `PRAGMA integrity_check`: `["ok"]` for a sound file, else the problems found.
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        let mut check = self.conn.prepare("PRAGMA integrity_check")?;
        let rows = check.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

/// A connection that cannot write: opened SQLITE_OPEN_READ_ONLY, with `query_only` on.
///
/// A reader that cannot write the database's directory (a user reading root's history)
/// cannot create the WAL index SQLite needs when no writer has the file open; then the
/// file cannot change under it either (a writer would have made the index), so it is
/// opened as immutable instead.
pub(crate) fn open_read_only_connection(path: &Path) -> Result<Connection, StoreError> {
    let open_error = |source| StoreError::Open {
        path: path.to_owned(),
        source,
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).map_err(open_error)?;
    if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(())) {
        const SQLITE_READONLY_DIRECTORY: i32 = 8 | (6 << 8);
        if e.sqlite_error().map(|f| f.extended_code) != Some(SQLITE_READONLY_DIRECTORY) {
            return Err(open_error(e));
        }
        let uri = format!("{}?immutable=1", file_uri(path));
        conn = Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
            .map_err(open_error)?;
    }
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
    conn.pragma_update(None, "query_only", true)
        .map_err(open_error)?;
    Ok(conn)
}

/// `file:` URI of a path, every byte but unreserved ones and '/' percent-encoded.
fn file_uri(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut uri = String::from("file:");
    for &byte in path.as_os_str().as_bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql_readonly::SqlValue;

    #[test]
    fn file_uris_escape_what_sqlite_would_parse() {
        assert_eq!(
            file_uri(Path::new("/var/lib/taskwatch/history.db")),
            "file:/var/lib/taskwatch/history.db"
        );
        assert_eq!(
            file_uri(Path::new("a b?c#d%é")),
            "file:a%20b%3Fc%23d%25%C3%A9"
        );
    }

    #[test]
    fn the_writer_connection_has_its_settings() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("h.db")).unwrap();
        let pragma = |name: &str| -> String {
            let sql = format!("PRAGMA {name}");
            let value = |r: &rusqlite::Row<'_>| Ok(SqlValue::from(r.get_ref(0)?).to_string());
            store.conn().query_row(&sql, [], value).unwrap()
        };
        assert_eq!(pragma("journal_mode"), "wal");
        assert_eq!(pragma("synchronous"), "1", "NORMAL");
        assert_eq!(pragma("foreign_keys"), "1");
        assert_eq!(pragma("auto_vacuum"), "2", "INCREMENTAL");
        assert_eq!(pragma("busy_timeout"), "5000");
        assert_eq!(pragma("journal_size_limit"), (16 << 20).to_string());
    }

    #[test]
    fn used_bytes_leave_out_free_pages() {
        let size = StoreSize {
            page_size: 4096,
            page_count: 10,
            freelist_count: 3,
            ..StoreSize::default()
        };
        assert_eq!(size.used_bytes(), 7 * 4096);
    }
}
