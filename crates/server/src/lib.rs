//! taskwatchd: one kernel reader, many subscribers routed by cpumask (the per-CPU listener
//! design of taskstats), with the versioned JSON-lines protocol and its client library.
//!
//! - [`protocol`]: requests, replies and their parser (documented in PROTOCOL.md).
//! - [`router`], [`fanout`], [`queue`]: per-CPU routing snapshots read without a lock by
//!   the event path, and bounded per-subscriber queues that count every loss.
//! - [`daemon`]: the daemon itself (socket, kernel reader, connections, metrics, signals).
//! - [`client`]: a blocking client with typed events and reconnection reporting a gap.
#![warn(missing_docs)]

pub mod access;
pub mod client;
pub mod config;
mod connection;
pub mod daemon;
pub mod fanout;
pub mod interest;
pub mod line_reader;
pub mod machine;
pub mod metrics;
mod metrics_http;
pub mod notify;
pub mod protocol;
pub mod queue;
pub mod router;
pub mod subscriber;

/// The default socket path.
pub const DEFAULT_SOCKET: &str = "/run/taskwatch/taskwatch.sock";
