//! taskwatch's history store: process lifetimes in an embedded SQLite database.
//! Schema, migrations, batched writes and the documented queries; no kernel I/O.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
