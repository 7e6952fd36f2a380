//! The taskstats generic netlink family (include/uapi/linux/taskstats.h): per-task accounting
//! sent to registered listeners at every task exit, or on request for a live task.

mod delay;
mod message;
mod request;
mod stats;

pub use delay::{Delay, DelayClass};
pub use message::{parse_datagram, records, Aggregate, Message, Record};
pub use request::{Command, Request};
pub use stats::{Taskstats, Timespec, KNOWN_LEN, LEN_V13, LEN_V14, LEN_V16, LEN_V17, MIN_LEN};

/// `TASKSTATS_GENL_NAME`: the family name to resolve.
pub const GENL_NAME: &str = "TASKSTATS";
/// `TASKSTATS_GENL_VERSION`: the `genlmsghdr.version` of requests.
pub const GENL_VERSION: u8 = 1;
/// `TS_COMM_LEN`: bytes of `ac_comm`.
pub const COMM_LEN: usize = 32;

/// `TASKSTATS_CMD_*`: generic netlink commands.
pub mod cmd {
    /// `TASKSTATS_CMD_GET`: user to kernel, a query or a (de)registration.
    pub const GET: u8 = 1;
    /// `TASKSTATS_CMD_NEW`: kernel to user, an exit record or the answer to a query.
    pub const NEW: u8 = 2;
}

/// `TASKSTATS_CMD_ATTR_*`: attributes of a `TASKSTATS_CMD_GET` request.
pub mod cmd_attr {
    /// `TASKSTATS_CMD_ATTR_PID` (u32): query one thread.
    pub const PID: u16 = 1;
    /// `TASKSTATS_CMD_ATTR_TGID` (u32): query a whole thread group.
    pub const TGID: u16 = 2;
    /// `TASKSTATS_CMD_ATTR_REGISTER_CPUMASK` (NUL-terminated cpulist).
    pub const REGISTER_CPUMASK: u16 = 3;
    /// `TASKSTATS_CMD_ATTR_DEREGISTER_CPUMASK` (NUL-terminated cpulist).
    pub const DEREGISTER_CPUMASK: u16 = 4;
}

/// `TASKSTATS_TYPE_*`: attributes of a `TASKSTATS_CMD_NEW` message.
pub mod kind {
    /// `TASKSTATS_TYPE_PID` (u32), inside `AGGR_PID`.
    pub const PID: u16 = 1;
    /// `TASKSTATS_TYPE_TGID` (u32), inside `AGGR_TGID`.
    pub const TGID: u16 = 2;
    /// `TASKSTATS_TYPE_STATS`: a `struct taskstats`, inside either nest.
    pub const STATS: u16 = 3;
    /// `TASKSTATS_TYPE_AGGR_PID`: nest of `PID` + `STATS` (no `NLA_F_NESTED`).
    pub const AGGR_PID: u16 = 4;
    /// `TASKSTATS_TYPE_AGGR_TGID`: nest of `TGID` + `STATS` (no `NLA_F_NESTED`).
    pub const AGGR_TGID: u16 = 5;
    /// `TASKSTATS_TYPE_NULL`: padding that 64-bit-aligns the next attribute; skipped.
    pub const NULL: u16 = 6;
}
