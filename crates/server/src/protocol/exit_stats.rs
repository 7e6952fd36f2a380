//! The `stats` member of an exit event (protocol 2, asked for with `exit_stats`): the
//! kernel's `struct taskstats` records of the exiting task, as hex, written and read back.
//!
//! `{"cpu":1,"task":"0a00…","process":null}`: `task` is the thread's record (AGGR_PID),
//! `process` the whole process's (AGGR_TGID, with the last thread of a multi-threaded
//! process), each the struct's bytes in the daemon's (native) byte order, as long as the
//! kernel's version has it; `cpu` is the CPU whose listener received it. Decoding gives
//! back the very records the daemon read, so a client computes exactly what direct mode does.

use serde::Deserialize;
use taskwatch_core::exit_stats::ExitStats;
use taskwatch_wire::taskstats::{Taskstats, KNOWN_LEN};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `,"stats":{...}` for `stats`.
pub fn write_stats_member(out: &mut Vec<u8>, stats: &ExitStats) {
    out.extend_from_slice(b",\"stats\":{\"cpu\":");
    match stats.cpu {
        Some(cpu) => out.extend_from_slice(cpu.to_string().as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"task\":");
    push_record(out, &stats.task);
    out.extend_from_slice(b",\"process\":");
    match &stats.process {
        Some(p) => push_record(out, p),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

fn push_record(out: &mut Vec<u8>, t: &Taskstats) {
    let mut raw = Vec::with_capacity(KNOWN_LEN);
    t.emit(&mut raw);
    out.push(b'"');
    for b in raw {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0xf)]);
    }
    out.push(b'"');
}

/// The `stats` member as it arrives.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StatsMember {
    /// The listener's CPU, when it covers one.
    pub cpu: Option<u32>,
    /// The thread's record, hex.
    pub task: String,
    /// The process's record, hex.
    pub process: Option<String>,
}

/// Why a `stats` member could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatsMemberError {
    /// Not an even run of hex digits.
    #[error("stats.{field}: not hex")]
    NotHex {
        /// `task` or `process`.
        field: &'static str,
    },
    /// Longer than any struct taskstats this side knows, by far.
    #[error("stats.{field}: {len} bytes is not a struct taskstats")]
    TooLong {
        /// `task` or `process`.
        field: &'static str,
        /// Bytes it would decode to.
        len: usize,
    },
    /// The bytes are not a struct taskstats.
    #[error("stats.{field}: {message}")]
    Decode {
        /// `task` or `process`.
        field: &'static str,
        /// The decoder's complaint.
        message: String,
    },
}

/// Longest record accepted: later kernels append fields; this bounds what a line may cost.
const MAX_RECORD: usize = 4 * KNOWN_LEN;

impl StatsMember {
    /// The records, decoded.
    pub fn decode(&self) -> Result<ExitStats, StatsMemberError> {
        Ok(ExitStats {
            task: decode_record(&self.task, "task")?,
            process: self
                .process
                .as_deref()
                .map(|p| decode_record(p, "process"))
                .transpose()?,
            cpu: self.cpu,
        })
    }
}

fn decode_record(hex: &str, field: &'static str) -> Result<Taskstats, StatsMemberError> {
    let len = hex.len() / 2;
    if len > MAX_RECORD {
        return Err(StatsMemberError::TooLong { field, len });
    }
    if hex.len() % 2 != 0 {
        return Err(StatsMemberError::NotHex { field });
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let raw = hex
        .as_bytes()
        .chunks_exact(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect::<Option<Vec<u8>>>()
        .ok_or(StatsMemberError::NotHex { field })?;
    Taskstats::parse(&raw).map_err(|e| StatsMemberError::Decode {
        field,
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(pid: u32, version: u16) -> Taskstats {
        let mut t = Taskstats::default();
        t.version = version;
        t.ac_pid = pid;
        t.ac_tgid = pid;
        t.ac_utime = 1234;
        t.nvcsw = 9;
        t.hiwater_rss = 65536;
        t.len = if version == 15 { 560 } else { KNOWN_LEN };
        t.ac_comm[..5].copy_from_slice(b"hello");
        t
    }

    fn round_trip(stats: &ExitStats) -> ExitStats {
        let mut out = b"{\"x\":1".to_vec();
        write_stats_member(&mut out, stats);
        out.push(b'}');
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let member: StatsMember = serde_json::from_value(v["stats"].clone()).unwrap();
        member.decode().unwrap()
    }

    #[test]
    fn records_come_back_equal() {
        for version in [15, 16, 17] {
            let stats = ExitStats {
                task: record(7, version),
                process: Some(record(0, version)),
                cpu: Some(1),
            };
            assert_eq!(round_trip(&stats), stats);
        }
        let alone = ExitStats {
            task: record(8, 16),
            process: None,
            cpu: None,
        };
        assert_eq!(round_trip(&alone), alone);
    }

    #[test]
    fn bad_members_are_errors() {
        let member = |task: &str| StatsMember {
            cpu: None,
            task: task.into(),
            process: None,
        };
        assert!(matches!(
            member("0g").decode(),
            Err(StatsMemberError::NotHex { .. })
        ));
        assert!(matches!(
            member("abc").decode(),
            Err(StatsMemberError::NotHex { .. })
        ));
        assert!(matches!(
            member("00").decode(),
            Err(StatsMemberError::Decode { .. })
        ));
        assert!(matches!(
            member(&"00".repeat(MAX_RECORD + 1)).decode(),
            Err(StatsMemberError::TooLong { .. })
        ));
        assert!(matches!(
            member("é0").decode(),
            Err(StatsMemberError::NotHex { .. })
        ));
    }
}
