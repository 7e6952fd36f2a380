//! Live queries (`TASKSTATS_CMD_GET`): the statistics of a running thread or thread group,
//! asked on a short-lived socket of its own, for `taskwatch stat PID`.

use taskwatch_wire::taskstats::Taskstats;

use super::error::{QueryError, Target};
use super::socket::{PortId, TaskstatsSocket};

/// The statistics of one live thread (`Target::Pid`) or the sum over a live thread group
/// (`Target::Tgid`). Opens a socket, resolves the family, asks, and closes it.
///
/// A task can exit at any moment: [`QueryError::Gone`] (ESRCH) is a normal outcome.
/// Needs CAP_NET_ADMIN in the initial user namespace, as every taskstats command does.
pub fn query(target: Target) -> Result<Taskstats, QueryError> {
    // Never registered, so the kernel's choice of port id (possibly our pid) is harmless.
    let mut socket = TaskstatsSocket::open(PortId::Kernel)?;
    socket.query(target)
}
