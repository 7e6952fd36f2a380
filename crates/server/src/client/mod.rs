//! The client library: connect, register, and read typed events; after the daemon goes
//! away it reconnects, registers again and reports a [`Gap`] before the next events.
//!
//! ```no_run
//! use std::time::Duration;
//! use taskwatch_server::client::{Client, ClientConfig, Received};
//! use taskwatch_server::protocol::RegisterRequest;
//! let config = ClientConfig {
//!     socket: taskwatch_server::DEFAULT_SOCKET.into(),
//!     registrations: vec![RegisterRequest { cpus: "0-1".into(), ..Default::default() }],
//!     reconnect: Some(Duration::from_millis(500)),
//! };
//! let mut client = Client::connect(config)?;
//! while let Some(received) = client.next(Duration::from_secs(1))? {
//!     if let Received::Event(e) = received { println!("{}", e.line); }
//! }
//! # Ok::<(), taskwatch_server::client::ClientError>(())
//! ```

mod event;
mod line_conn;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Deserialize;

pub use event::{parse_event, EventParseError, Gap, Received, RemoteEvent};
use line_conn::LineConn;

use crate::protocol::RegisterRequest;

/// How long the handshake may take before the daemon is deemed unresponsive.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// What to connect to and ask for.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The daemon's socket.
    pub socket: PathBuf,
    /// Registrations made on every (re)connection.
    pub registrations: Vec<RegisterRequest>,
    /// Retry interval after the connection is lost; `None`: do not reconnect.
    pub reconnect: Option<Duration>,
}

/// Why the client stopped.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket could not be reached.
    #[error("cannot connect to {path}: {source}")]
    Connect {
        /// The socket.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Reading or writing failed.
    #[error("connection to the daemon: {0}")]
    Io(#[from] std::io::Error),
    /// The daemon refused a request.
    #[error("the daemon refused: {message} ({code})")]
    Refused {
        /// The error code.
        code: String,
        /// The daemon's message.
        message: String,
    },
    /// The daemon said something this client does not understand.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The daemon closed the connection and reconnecting is off.
    #[error("the daemon closed the connection: {reason}")]
    Closed {
        /// The daemon's reason, or what happened.
        reason: String,
    },
}

/// The daemon's greeting.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct HelloInfo {
    /// Protocol version.
    pub protocol: u32,
    /// Server name and version.
    pub server: String,
    /// The daemon run.
    pub instance: String,
    /// Daemon's monotonic clock at connect.
    pub ts_ns: u64,
    /// CPUs are numbered below this.
    pub nr_cpu_ids: u32,
    /// Possible CPUs.
    pub possible_cpus: String,
    /// Our uid as the daemon sees it.
    pub uid: u32,
    /// "all" or "own".
    pub sees: String,
    /// Whether exit statistics can be asked for (protocol 2; absent means no).
    #[serde(default)]
    pub exit_stats: bool,
}

#[derive(Deserialize)]
struct ReplyLine {
    reply: String,
    tag: Option<serde_json::Value>,
    code: Option<String>,
    message: Option<String>,
    reason: Option<String>,
}

/// A connected client.
pub struct Client {
    config: ClientConfig,
    conn: Option<LineConn>,
    hello: HelloInfo,
    pending: VecDeque<Received>,
    last_ts_ns: Option<u64>,
    /// Why the connection went away, while reconnecting.
    lost_because: Option<String>,
    next_attempt: Instant,
}

impl Client {
    /// Connects and makes every registration; any refusal is an error.
    pub fn connect(config: ClientConfig) -> Result<Client, ClientError> {
        let mut pending = VecDeque::new();
        let (conn, hello) = handshake(&config, &mut pending)?;
        Ok(Client {
            config,
            conn: Some(conn),
            hello,
            pending,
            last_ts_ns: None,
            lost_because: None,
            next_attempt: Instant::now(),
        })
    }

    /// The current connection's greeting.
    pub fn hello(&self) -> &HelloInfo {
        &self.hello
    }

    /// True while disconnected and trying to reconnect.
    pub fn reconnecting(&self) -> bool {
        self.conn.is_none()
    }

    /// The next event or gap, waiting at most about `timeout` (`Ok(None)` then).
    pub fn next(&mut self, timeout: Duration) -> Result<Option<Received>, ClientError> {
        if let Some(r) = self.pending.pop_front() {
            if let Received::Event(e) = &r {
                self.last_ts_ns = Some(e.event.ts_ns);
            }
            return Ok(Some(r));
        }
        let Some(conn) = self.conn.as_mut() else {
            return self.try_reconnect(timeout);
        };
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match conn.read_line(left) {
                Ok(Some(line)) => line,
                Ok(None) => return Ok(None),
                Err(e) => return self.disconnected(format!("connection lost: {e}")),
            };
            let Ok(text) = std::str::from_utf8(&line) else {
                return Err(ClientError::Protocol("a line that is not UTF-8".into()));
            };
            if text.starts_with("{\"event\"") {
                match parse_event(text) {
                    Ok(e) => {
                        self.last_ts_ns = Some(e.event.ts_ns);
                        return Ok(Some(Received::Event(e)));
                    }
                    // A kind added by a newer daemon: skip it, as the schema promises.
                    Err(_) => continue,
                }
            }
            let reply: ReplyLine = serde_json::from_str(text)
                .map_err(|e| ClientError::Protocol(format!("{e}: {text}")))?;
            match reply.reply.as_str() {
                "shutdown" => {
                    let reason = reply.reason.unwrap_or_else(|| "daemon stopping".into());
                    return self.disconnected(reason);
                }
                "error" => {
                    return Err(ClientError::Refused {
                        code: reply.code.unwrap_or_default(),
                        message: reply.message.unwrap_or_default(),
                    })
                }
                _ => continue,
            }
        }
    }

    fn disconnected(&mut self, reason: String) -> Result<Option<Received>, ClientError> {
        self.conn = None;
        if self.config.reconnect.is_none() {
            return Err(ClientError::Closed { reason });
        }
        tracing::warn!("{reason}; reconnecting to {}", self.config.socket.display());
        self.lost_because = Some(reason);
        self.next_attempt = Instant::now();
        Ok(None)
    }

    fn try_reconnect(&mut self, timeout: Duration) -> Result<Option<Received>, ClientError> {
        let interval = self.config.reconnect.unwrap_or(Duration::from_millis(500));
        let now = Instant::now();
        if now < self.next_attempt {
            std::thread::sleep((self.next_attempt - now).min(timeout));
            return Ok(None);
        }
        self.next_attempt = now + interval;
        let mut pending = VecDeque::new();
        match handshake(&self.config, &mut pending) {
            Ok((conn, hello)) => {
                let gap = Gap {
                    since_ts_ns: self.last_ts_ns,
                    resumed_ts_ns: hello.ts_ns,
                    restarted: hello.instance != self.hello.instance,
                    reason: self.lost_because.take().unwrap_or_default(),
                };
                tracing::info!(restarted = gap.restarted, "reconnected");
                self.conn = Some(conn);
                self.hello = hello;
                self.pending = pending;
                Ok(Some(Received::Gap(gap)))
            }
            // The daemon is not back yet.
            Err(ClientError::Connect { .. } | ClientError::Io(_) | ClientError::Closed { .. }) => {
                std::thread::sleep(interval.min(timeout));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// Connects, reads the hello and makes every registration. Events that arrive between
/// replies go to `pending`.
fn handshake(
    config: &ClientConfig,
    pending: &mut VecDeque<Received>,
) -> Result<(LineConn, HelloInfo), ClientError> {
    let mut conn = LineConn::connect(&config.socket).map_err(|source| ClientError::Connect {
        path: config.socket.clone(),
        source,
    })?;
    let line = read_reply_line(&mut conn, pending)?;
    let hello: HelloInfo = serde_json::from_slice(&line)
        .map_err(|e| ClientError::Protocol(format!("bad hello: {e}")))?;
    let spoken = crate::protocol::OLDEST_PROTOCOL_VERSION..=crate::protocol::PROTOCOL_VERSION;
    if !spoken.contains(&hello.protocol) {
        return Err(ClientError::Protocol(format!(
            "the daemon speaks protocol {}, this client {} to {}",
            hello.protocol,
            spoken.start(),
            spoken.end()
        )));
    }
    if config.registrations.iter().any(|r| r.exit_stats) && !hello.exit_stats {
        return Err(ClientError::Refused {
            code: "exit_stats_unavailable".into(),
            message: format!(
                "the daemon (protocol {}) does not deliver exit statistics: it needs \
                 protocol 2 and a taskstats listener (see the daemon's log)",
                hello.protocol
            ),
        });
    }
    for (tag, registration) in config.registrations.iter().enumerate() {
        let mut request =
            serde_json::to_value(registration).map_err(|e| ClientError::Protocol(e.to_string()))?;
        request["op"] = "register".into();
        request["tag"] = tag.into();
        conn.send(request.to_string().as_bytes())?;
        let line = read_reply_line(&mut conn, pending)?;
        let reply: ReplyLine = serde_json::from_slice(&line)
            .map_err(|e| ClientError::Protocol(format!("bad reply: {e}")))?;
        match reply.reply.as_str() {
            "registered" if reply.tag == Some(tag.into()) => {}
            "error" => {
                return Err(ClientError::Refused {
                    code: reply.code.unwrap_or_default(),
                    message: reply.message.unwrap_or_default(),
                })
            }
            "shutdown" => {
                return Err(ClientError::Closed {
                    reason: reply.reason.unwrap_or_default(),
                })
            }
            other => return Err(ClientError::Protocol(format!("unexpected reply {other:?}"))),
        }
    }
    Ok((conn, hello))
}

/// The next line that is not an event (events are kept in `pending`).
fn read_reply_line(
    conn: &mut LineConn,
    pending: &mut VecDeque<Received>,
) -> Result<Vec<u8>, ClientError> {
    let deadline = Instant::now() + HANDSHAKE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ClientError::Protocol("the daemon did not answer".into()));
        }
        let Some(line) = conn.read_line(left)? else {
            continue;
        };
        if line.starts_with(b"{\"event\"") {
            if let Ok(e) = std::str::from_utf8(&line)
                .map_err(|e| e.to_string())
                .and_then(|t| parse_event(t).map_err(|e| e.0))
            {
                pending.push_back(Received::Event(e));
            }
            continue;
        }
        return Ok(line);
    }
}
