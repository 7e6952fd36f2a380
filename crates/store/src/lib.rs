//! taskwatch's history store: process lifetimes in an embedded SQLite database.
//! Schema, migrations, batched writes and the documented queries; no kernel I/O.
//!
//! Write with a [`Recorder`] (a writer thread behind a bounded queue) or directly with
//! [`Store::insert_batch`]; read with [`Store::query`] or, for any SELECT,
//! [`sql_readonly()`]. The schema is documented in `SCHEMA.md` and versioned with
//! `PRAGMA user_version`; [`Store::open`] migrates older files and refuses newer ones.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod error;
pub mod location;
mod migrations;
pub mod query;
pub mod record;
pub mod recorder;
pub mod retention;
mod row;
pub mod schema;
pub mod sql_readonly;
pub mod store;
pub mod time_spec;

pub use error::StoreError;
pub use location::default_path;
pub use query::{Query, TopKey};
pub use record::{Change, ChangeKind, ChangeValue, Delay, Lifetime, StoredLifetime, TaskStats};
pub use recorder::{Recorder, RecorderConfig, RecorderStats};
pub use retention::{Retention, RetentionOutcome};
pub use schema::SCHEMA_VERSION;
pub use sql_readonly::{sql_readonly, sql_readonly_each, SqlOutput, SqlValue};
pub use store::{BatchOutcome, Store, StoreSize};
pub use time_spec::{parse_duration_spec, parse_time_spec, TimeSpecError};
