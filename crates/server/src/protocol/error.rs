//! Why a request was refused: a stable machine-readable code plus a message that names the
//! problem. A refused request never closes the connection.

use std::fmt;

/// Stable error codes (the `code` field of an error reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The line is not a JSON object.
    BadJson,
    /// The line is longer than the server's limit.
    TooLong,
    /// `op` is missing or unknown.
    UnknownOp,
    /// A field is missing, unknown, or of the wrong type.
    BadField,
    /// The client asked for a protocol version the server does not speak.
    UnsupportedProtocol,
    /// The cpulist was refused (syntax, CPU ≥ nr_cpu_ids, not possible, too long, empty).
    BadCpulist,
    /// An unknown event kind.
    BadEventKind,
    /// A filter list longer than the limit, or a bad comm.
    BadFilter,
    /// The connection already has the most registrations allowed.
    TooManyRegistrations,
    /// No registration with that id on this connection.
    UnknownRegistration,
    /// The server has the most connections allowed.
    TooManyConnections,
    /// `exit_stats` was asked for but the daemon has no taskstats listener.
    ExitStatsUnavailable,
}

impl ErrorCode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadJson => "bad_json",
            ErrorCode::TooLong => "too_long",
            ErrorCode::UnknownOp => "unknown_op",
            ErrorCode::BadField => "bad_field",
            ErrorCode::UnsupportedProtocol => "unsupported_protocol",
            ErrorCode::BadCpulist => "bad_cpulist",
            ErrorCode::BadEventKind => "bad_event_kind",
            ErrorCode::BadFilter => "bad_filter",
            ErrorCode::TooManyRegistrations => "too_many_registrations",
            ErrorCode::UnknownRegistration => "unknown_registration",
            ErrorCode::TooManyConnections => "too_many_connections",
            ErrorCode::ExitStatsUnavailable => "exit_stats_unavailable",
        }
    }
}

/// A refused request.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestError {
    /// What kind of problem.
    pub code: ErrorCode,
    /// What exactly, for people.
    pub message: String,
    /// The request's `tag`, echoed back when it could be read.
    pub tag: Option<serde_json::Value>,
}

impl RequestError {
    /// An error without a tag.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        RequestError {
            code,
            message: message.into(),
            tag: None,
        }
    }

    /// The same error carrying `tag`.
    pub fn with_tag(mut self, tag: Option<serde_json::Value>) -> Self {
        self.tag = tag;
        self
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for RequestError {}
