//! What a taskstats listener hands its consumer: exit records, losses counted exactly, and
//! shard failures; plus the per-shard descriptions and counters for reports.

use std::io;
use std::sync::Arc;

use taskwatch_core::cpulist::CpuSet;
use taskwatch_wire::taskstats::Record;

pub use super::seq::SeqRange;

/// One thing a listener received.
///
/// The records of one datagram (an `AGGR_PID` record, then the `AGGR_TGID` record when a
/// multi-threaded process's last thread exits) are handed over adjacent, in that order,
/// with the same `seq`.
// Nearly every item is a record: boxing it would add an allocation per exit for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Item {
    /// One exit record.
    Record {
        /// The CPU the task exited on, when its shard listens to exactly one CPU.
        cpu: Option<u32>,
        /// `nlmsg_seq`: the exit counter of the CPU that sent it (interleaved across CPUs
        /// on a shard with several).
        seq: u32,
        /// The record.
        record: Record,
    },
    /// Exit records the listener will never deliver.
    Lost {
        /// How many datagrams (one per exiting task).
        count: u64,
        /// The CPUs of the shard that lost them.
        cpus: CpuSet,
        /// How the count was established.
        cause: LossCause,
    },
    /// A shard stopped on an I/O error; its CPUs are no longer listened to.
    ShardFailed {
        /// The CPUs of the shard.
        cpus: CpuSet,
        /// What failed.
        error: Arc<io::Error>,
    },
}

/// How a loss was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LossCause {
    /// A gap in one CPU's sequence numbers (confirmed by the socket's drop counter).
    SequenceGap,
    /// The socket's drop counter (/proc/net/netlink): for shards of several CPUs, whose
    /// sequence numbers interleave, and for drops after the last datagram received.
    SocketDrops,
    /// A datagram longer than the receive slot (`MSG_TRUNC`), from a kernel whose
    /// `struct taskstats` outgrew it.
    Truncated,
    /// A datagram that did not decode.
    Malformed,
}

impl LossCause {
    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            LossCause::SequenceGap => "sequence_gap",
            LossCause::SocketDrops => "socket_drops",
            LossCause::Truncated => "truncated",
            LossCause::Malformed => "malformed",
        }
    }
}

/// One shard: a socket registered for some CPUs, drained by its own thread.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardInfo {
    /// The CPUs it listens to.
    pub cpus: CpuSet,
    /// Its netlink port id, the key of its registration in the kernel.
    pub portid: u32,
    /// The receive buffer the kernel granted, in bytes.
    pub rcvbuf_bytes: usize,
}

/// Counters of one shard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardStats {
    /// Datagrams received (exit datagrams; acknowledgements not counted).
    pub datagrams: u64,
    /// Records delivered.
    pub records: u64,
    /// Datagrams lost, every cause together (the sum of the `Item::Lost` counts).
    pub lost: u64,
    /// ENOBUFS errors: receive buffer overflow episodes.
    pub enobufs: u64,
    /// Datagrams truncated by the receive slot (also counted in `lost`).
    pub truncated: u64,
    /// Datagrams that did not decode (also counted in `lost`).
    pub malformed: u64,
    /// Datagrams whose seq fell outside the CPU's sequence (one-CPU shards).
    pub out_of_sequence: u64,
    /// Datagrams of an earlier registration on the same port id, discarded at open.
    pub stale: u64,
    /// The socket's drop counter since the shard opened, as last read.
    pub kernel_drops: u64,
    /// The accounted sequence range (one-CPU shards, once a datagram arrived).
    pub seq: Option<SeqRange>,
}
