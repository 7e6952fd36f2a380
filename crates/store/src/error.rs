//! Why a store operation failed: the cases a caller acts on (newer schema, not our file,
//! a write through the read-only door, a stopped recorder) apart from SQLite's own errors.

use std::io;
use std::path::PathBuf;

/// A store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database directory could not be created.
    #[error("cannot create {}: {source}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// SQLite could not open the file.
    #[error("cannot open {}: {source}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
    /// The file was written by a newer taskwatch: its schema is not understood here.
    #[error(
        "{} has schema version {found}, newer than this taskwatch understands ({supported}); \
         upgrade taskwatch or use another --db",
        path.display()
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// The file's `user_version`.
        found: u32,
        /// The newest version this build knows.
        supported: u32,
    },
    /// Opened read-only, the file has an older schema that only a writer can migrate.
    #[error(
        "{} has schema version {found}, older than {current}; open it once for writing \
         (taskwatch record) to migrate it",
        path.display()
    )]
    OlderSchema {
        /// The database file.
        path: PathBuf,
        /// The file's `user_version`.
        found: u32,
        /// The version this build writes.
        current: u32,
    },
    /// The file is an SQLite database of some other program.
    #[error("{} is not a taskwatch history database ({why})", path.display())]
    NotHistory {
        /// The database file.
        path: PathBuf,
        /// What gave it away.
        why: String,
    },
    /// A statement given to `sql_readonly` would write.
    #[error("refused: the statement would modify the database (--sql runs read-only)")]
    WriteRefused,
    /// A stored value does not have the shape this build writes.
    #[error("lifetime {id}: column {column} is malformed")]
    Malformed {
        /// The lifetime's row id.
        id: i64,
        /// The column.
        column: &'static str,
    },
    /// A value could not be encoded for storage (JSON of argv or delays).
    #[error("cannot encode {0} as JSON")]
    Encode(&'static str),
    /// No default database location: neither XDG_DATA_HOME nor HOME is set.
    #[error("no default database location (HOME and XDG_DATA_HOME are unset); pass a path")]
    NoDefaultLocation,
    /// The recorder's writer thread has stopped.
    #[error("the recorder's writer thread has stopped")]
    RecorderStopped,
    /// The writer thread could not be started.
    #[error("cannot start the recorder's writer thread: {0}")]
    Spawn(io::Error),
    /// Any other SQLite error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}
