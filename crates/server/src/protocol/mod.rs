//! The subscription protocol, version 2: JSON lines both ways. Clients send requests
//! (`op`), the server answers with replies (`reply`) and streams events (`event`).
//!
//! The full description with examples is crates/server/PROTOCOL.md.

mod error;
pub mod exit_stats;
mod reply;
mod request;

pub use error::{ErrorCode, RequestError};
pub use reply::{error_line, Hello, LimitsInfo, Reply};
pub(crate) use request::truncate;
pub use request::{parse_request, RegisterRequest, Request};

/// The protocol version this server speaks: 2 adds `exit_stats` (a registration option)
/// and the `stats` member of exit events to version 1.
pub const PROTOCOL_VERSION: u32 = 2;

/// The oldest version still spoken (a version 1 client simply never asks for `exit_stats`).
pub const OLDEST_PROTOCOL_VERSION: u32 = 1;
