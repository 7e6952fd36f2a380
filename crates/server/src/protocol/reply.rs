//! What the server sends besides events: `hello` on connect, one reply per request
//! (`registered`, `deregistered`, `pong`, `error`) and `shutdown` before it closes.

use serde::Serialize;
use serde_json::Value;

use super::error::RequestError;

/// The limits announced in `hello`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LimitsInfo {
    /// Longest request line, in bytes (newline excluded).
    pub max_request_bytes: usize,
    /// Registrations per connection.
    pub max_registrations: usize,
    /// Entries per filter list (pids, uids, comms).
    pub max_filter_entries: usize,
    /// Bytes of events queued for this connection before events are dropped (and counted).
    pub queue_bytes: usize,
}

/// The first line the server sends.
#[derive(Debug, Clone, Serialize)]
pub struct Hello {
    /// Protocol version.
    pub protocol: u32,
    /// Server name and version.
    pub server: String,
    /// Identifies this daemon run: a new value means the daemon restarted.
    pub instance: String,
    /// Kernel monotonic time at connect, in ns (the clock of every `ts_ns`).
    pub ts_ns: u64,
    /// The machine's nr_cpu_ids (CPUs are numbered below it).
    pub nr_cpu_ids: u32,
    /// The machine's possible CPUs, as a cpulist.
    pub possible_cpus: String,
    /// The client's uid, from the socket's peer credentials.
    pub uid: u32,
    /// "all" when the client sees every task, "own" when only tasks whose real or
    /// effective uid is its own.
    pub sees: &'static str,
    /// Protocol 2: whether registrations may ask for `exit_stats` (the daemon listens to
    /// taskstats).
    pub exit_stats: bool,
    /// This connection's limits.
    pub limits: LimitsInfo,
}

/// A reply to one request.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "reply", rename_all = "lowercase")]
pub enum Reply {
    /// The server's greeting.
    Hello(Hello),
    /// A registration was added.
    Registered {
        /// The request's tag.
        #[serde(skip_serializing_if = "Option::is_none")]
        tag: Option<Value>,
        /// Its id, for `deregister`.
        registration: u64,
        /// The CPUs, in canonical cpulist form.
        cpus: String,
        /// The kinds delivered.
        events: Vec<&'static str>,
    },
    /// A registration was removed.
    Deregistered {
        /// The request's tag.
        #[serde(skip_serializing_if = "Option::is_none")]
        tag: Option<Value>,
        /// Its id.
        registration: u64,
    },
    /// Answer to `ping`.
    Pong {
        /// The request's tag.
        #[serde(skip_serializing_if = "Option::is_none")]
        tag: Option<Value>,
    },
    /// The daemon is stopping; the connection closes after this line.
    Shutdown {
        /// Why ("SIGTERM", "kernel source failed: ...").
        reason: String,
    },
}

impl Reply {
    /// The reply as one JSON line.
    pub fn to_line(&self) -> Vec<u8> {
        let mut line = serde_json::to_vec(self).unwrap_or_default();
        line.push(b'\n');
        line
    }
}

/// An `error` reply as one JSON line.
pub fn error_line(e: &RequestError) -> Vec<u8> {
    #[derive(Serialize)]
    struct ErrorReply<'a> {
        reply: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        tag: Option<&'a Value>,
        code: &'static str,
        message: &'a str,
    }
    let mut line = serde_json::to_vec(&ErrorReply {
        reply: "error",
        tag: e.tag.as_ref(),
        code: e.code.as_str(),
        message: &e.message,
    })
    .unwrap_or_default();
    line.push(b'\n');
    line
}
