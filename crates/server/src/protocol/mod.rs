//! The subscription protocol, version 1: JSON lines both ways. Clients send requests
//! (`op`), the server answers with replies (`reply`) and streams events (`event`).
//!
//! The full description with examples is crates/server/PROTOCOL.md.

mod error;
mod reply;
mod request;

pub use error::{ErrorCode, RequestError};
pub use reply::{error_line, Hello, LimitsInfo, Reply};
pub(crate) use request::truncate;
pub use request::{parse_request, RegisterRequest, Request};

/// The protocol version this server speaks.
pub const PROTOCOL_VERSION: u32 = 1;
