//! What the core asks of the operating system, as a trait the kernel crate implements:
//! /proc snapshots for bootstrap and resync, a parent lookup, and killing a denied task.

use crate::task::{Task, TaskSnapshot};

/// Why a denied task could not be killed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KillError {
    /// The task is gone already (or its pid now names another task).
    Gone,
    /// Not permitted.
    PermissionDenied,
    /// Anything else, with the OS's words.
    Other(String),
}

/// Access to live task state. Every answer may be stale by the time it is used;
/// `None` means the task is gone, which is a normal outcome.
pub trait TaskProbe {
    /// Every task (threads included) now in /proc.
    fn snapshot_all(&mut self) -> Vec<TaskSnapshot>;
    /// One task, if it still exists.
    fn snapshot(&mut self, pid: u32) -> Option<TaskSnapshot>;
    /// The current parent process of `pid`, if it still exists.
    fn parent_of(&mut self, pid: u32) -> Option<u32>;
    /// Kills `task` with SIGKILL through a pidfd, making sure the pid still names this task.
    fn kill(&mut self, task: &Task) -> Result<(), KillError>;
}

/// A probe that knows nothing: for tests and replays with no live system behind them.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProbe;

impl TaskProbe for NoProbe {
    fn snapshot_all(&mut self) -> Vec<TaskSnapshot> {
        Vec::new()
    }
    fn snapshot(&mut self, _pid: u32) -> Option<TaskSnapshot> {
        None
    }
    fn parent_of(&mut self, _pid: u32) -> Option<u32> {
        None
    }
    fn kill(&mut self, _task: &Task) -> Result<(), KillError> {
        Err(KillError::Gone)
    }
}
