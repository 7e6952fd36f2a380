//! The kernel's accounting for an exiting task (taskstats), as attached to its exit event:
//! the thread's own record, and the whole process's when its last thread leaves.

use taskwatch_wire::taskstats::Taskstats;

/// Statistics at exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitStats {
    /// The exiting task's record (AGGR_PID).
    pub task: Taskstats,
    /// The process's summed record (AGGR_TGID), sent with the last thread's exit of a
    /// multi-threaded process; `None` otherwise.
    pub process: Option<Taskstats>,
    /// The CPU whose listener shard delivered it, when the shard covers one CPU.
    pub cpu: Option<u32>,
}
