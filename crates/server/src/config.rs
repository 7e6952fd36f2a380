//! The daemon's settings: a TOML file (every key optional), overridden by command-line
//! flags. Unknown keys are refused by name so a typo does not silently do nothing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::access::AccessConfig;
use crate::protocol::LimitsInfo;

/// Why the config file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// It could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not valid TOML for these settings.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line.
        message: String,
    },
}

/// Per-connection and server-wide limits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Connections open at once; more are refused with an error line.
    pub max_connections: usize,
    /// Registrations per connection.
    pub max_registrations: usize,
    /// Longest request line in bytes.
    pub max_request_bytes: usize,
    /// Entries per filter list.
    pub max_filter_entries: usize,
    /// Bytes of events queued per connection before events are dropped and counted.
    pub queue_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            max_registrations: 64,
            // A cpulist may be 100 + 6 × NR_CPUS bytes: 49252 for NR_CPUS 8192.
            max_request_bytes: 64 * 1024,
            max_filter_entries: 1024,
            queue_bytes: 4 << 20,
        }
    }
}

impl Limits {
    /// The part announced to clients.
    pub fn info(&self) -> LimitsInfo {
        LimitsInfo {
            max_request_bytes: self.max_request_bytes,
            max_registrations: self.max_registrations,
            max_filter_entries: self.max_filter_entries,
            queue_bytes: self.queue_bytes,
        }
    }
}

/// How the kernel is read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourceSettings {
    /// Proc connector receive buffer in bytes.
    pub rcvbuf_bytes: usize,
    /// After a read that found events, wait this long for more (µs): fewer wake-ups,
    /// at most this much added latency.
    pub batch_wait_us: u64,
    /// Read /proc/PID/cmdline at each exec.
    pub argv: bool,
    /// Listen to taskstats (one listener shard per CPU) so exit events can carry the
    /// kernel's statistics for registrations asking `exit_stats`.
    pub exit_stats: bool,
}

impl Default for SourceSettings {
    fn default() -> Self {
        SourceSettings {
            rcvbuf_bytes: 64 << 20,
            batch_wait_us: 200,
            argv: true,
            exit_stats: true,
        }
    }
}

/// Everything the daemon is told.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonConfig {
    /// The socket path.
    pub socket: PathBuf,
    /// Group owning the socket (name or number); `None` keeps the daemon's.
    pub group: Option<String>,
    /// Socket file mode.
    pub socket_mode: u32,
    /// Serve Prometheus metrics here (loopback only); `None`: no metrics.
    pub metrics: Option<SocketAddr>,
    /// Limits.
    pub limits: Limits,
    /// Who sees every task.
    pub access: AccessConfig,
    /// The kernel source.
    pub source: SourceSettings,
    /// Record every task lifetime to the history database (`[record]`; absent: off).
    pub record: Option<RecordSettings>,
}

/// The history recorder run on the reader thread (`taskwatch record`'s settings).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordSettings {
    /// The database; `None`: the default location.
    pub db: Option<PathBuf>,
    /// Also record a lifetime per thread.
    pub threads: bool,
    /// Delete lifetimes that ended longer ago than this ("30d", "12h").
    pub max_age: Option<String>,
    /// Keep the database under this many bytes, deleting the oldest first.
    pub max_size: Option<u64>,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            socket: PathBuf::from(crate::DEFAULT_SOCKET),
            group: None,
            socket_mode: 0o660,
            metrics: None,
            limits: Limits::default(),
            access: AccessConfig::default(),
            source: SourceSettings::default(),
            record: None,
        }
    }
}

impl DaemonConfig {
    /// Reads a TOML file.
    pub fn load(path: &Path) -> Result<DaemonConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        DaemonConfig::from_toml(&text).map_err(|message| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        })
    }

    /// Parses TOML text.
    pub fn from_toml(text: &str) -> Result<DaemonConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_optional_and_typos_are_refused() {
        assert_eq!(
            DaemonConfig::from_toml("").unwrap(),
            DaemonConfig::default()
        );
        let c = DaemonConfig::from_toml(
            "socket = \"/tmp/x.sock\"\nmetrics = \"127.0.0.1:9464\"\n[limits]\nqueue_bytes = 1024\n[access]\nsee_all_uids = [1000]\n",
        )
        .unwrap();
        assert_eq!(c.limits.queue_bytes, 1024);
        assert_eq!(c.limits.max_registrations, 64);
        assert_eq!(c.access.see_all_uids, vec![1000]);
        let c = DaemonConfig::from_toml("[record]\ndb = \"/tmp/h.db\"\n").unwrap();
        assert_eq!(c.record.unwrap().db, Some(PathBuf::from("/tmp/h.db")));
        let e = DaemonConfig::from_toml("[record]\ndatabase = \"x\"\n").unwrap_err();
        assert!(e.contains("database"), "{e}");
        let e = DaemonConfig::from_toml("[limits]\nqueue_byte = 1\n").unwrap_err();
        assert!(e.contains("queue_byte"), "{e}");
    }
}
