//! Task watchers: functions registered in one line per event kind, gathered by the linker
//! into one table per kind (`linkme` distributed slices), walked by dispatch without a lock.
//!
//! ```
//! use taskwatch_core::{task_watcher, Ctx, Verdict};
//! fn count_forks(ctx: &Ctx) -> Verdict {
//!     let _child = ctx.task.pid;
//!     Verdict::Continue
//! }
//! task_watcher!(fork, count_forks);
//! ```
//!
//! A watcher is called for every event of its kind on the dispatching thread, with the
//! event, the task as the process table knows it (the child, for forks) and the table. The order of
//! watchers within a table is unspecified. A crate's watchers are linked only when the
//! crate is referenced: add `use that_crate as _;` to the binary.

use crate::event::{Event, Kind};
use crate::table::ProcessTable;
use crate::task::Task;

/// What a watcher is handed.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The event.
    pub event: &'a Event,
    /// The task it is about, as the table knows it (a stand-in when unknown).
    pub task: &'a Task,
    /// The whole process table, for ancestry and relatives.
    pub table: &'a ProcessTable,
}

impl<'a> Ctx<'a> {
    /// The task's parent process, grandparent, and so on.
    pub fn ancestors(&self) -> impl Iterator<Item = &'a Task> {
        self.table.ancestors(self.task.pid)
    }
}

/// What a watcher asks of the dispatcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Call the next watcher.
    Continue,
    /// Call no further watcher for this event.
    Stop,
    /// On `init`, `fork` and `exec`: kill the task (through a pidfd) and report a `denied`
    /// event. Elsewhere it acts as `Stop`.
    Deny,
}

/// A watcher function.
pub type WatchFn = fn(&Ctx<'_>) -> Verdict;

/// One entry of a watcher table.
#[derive(Debug)]
pub struct Watcher {
    /// Name for reports (module path and function).
    pub name: &'static str,
    /// The function.
    pub func: WatchFn,
}

/// The linker-gathered tables, one per event kind plus `ANY` for every event.
pub mod tables {
    use super::Watcher;
    use linkme::distributed_slice;

    macro_rules! tables {
        ($($name:ident),* $(,)?) => {$(
            #[doc = concat!("The linker-gathered table `", stringify!($name), "`.")]
            #[distributed_slice]
            pub static $name: [Watcher];
        )*};
    }
    tables!(
        TASK_WATCHERS_INIT,
        TASK_WATCHERS_FORK,
        TASK_WATCHERS_EXEC,
        TASK_WATCHERS_UID,
        TASK_WATCHERS_GID,
        TASK_WATCHERS_SID,
        TASK_WATCHERS_PTRACE,
        TASK_WATCHERS_COMM,
        TASK_WATCHERS_COREDUMP,
        TASK_WATCHERS_EXIT,
        TASK_WATCHERS_FREE,
        TASK_WATCHERS_DENIED,
        TASK_WATCHERS_LOST,
        TASK_WATCHERS_ANY,
    );
}

/// The static table for one kind.
pub fn table(kind: Kind) -> &'static [Watcher] {
    use tables::*;
    match kind {
        Kind::Init => &TASK_WATCHERS_INIT,
        Kind::Fork => &TASK_WATCHERS_FORK,
        Kind::Exec => &TASK_WATCHERS_EXEC,
        Kind::Uid => &TASK_WATCHERS_UID,
        Kind::Gid => &TASK_WATCHERS_GID,
        Kind::Sid => &TASK_WATCHERS_SID,
        Kind::Ptrace => &TASK_WATCHERS_PTRACE,
        Kind::Comm => &TASK_WATCHERS_COMM,
        Kind::Coredump => &TASK_WATCHERS_COREDUMP,
        Kind::Exit => &TASK_WATCHERS_EXIT,
        Kind::Free => &TASK_WATCHERS_FREE,
        Kind::Denied => &TASK_WATCHERS_DENIED,
        Kind::Lost => &TASK_WATCHERS_LOST,
    }
}

/// The table of watchers called for every event.
pub fn any_table() -> &'static [Watcher] {
    &tables::TASK_WATCHERS_ANY
}

#[doc(hidden)]
pub use linkme as __linkme;

/// Registers a watcher function for an event kind, in one line:
/// `task_watcher!(exec, audit_exec);`. Kinds: `init`, `fork` (or `clone`), `exec`, `uid`,
/// `gid`, `sid`, `ptrace`, `comm`, `coredump`, `exit`, `free`, `denied`, `lost`, `any`.
#[macro_export]
macro_rules! task_watcher {
    (init, $f:path) => {
        $crate::__task_watcher!(TASK_WATCHERS_INIT, $f);
    };
    (fork, $f:path) => {
        $crate::__task_watcher!(TASK_WATCHERS_FORK, $f);
    };
    (clone, $f:path) => {
        $crate::__task_watcher!(TASK_WATCHERS_FORK, $f);
    };
    (exec, $f:path) => {
        $crate::__task_watcher!(TASK_WATCHERS_EXEC, $f);
    };
    (uid, $f:path) => {
        $crate::__task_watcher!(TASK_WATCHERS_UID, $f);
    };
    (gid, $f:path) => {
        $crate::__task_watcher!(TASK_WATCHERS_GID, $f);
    };
    (sid, $f:path) => {
        $crate::__task_watcher!(TASK_WATCHERS_SID, $f);
    };
    (ptrace, $f:path) => {
        $crate::__task_watcher!(TASK_WATCHERS_PTRACE, $f);
    };
    (comm, $f:path) => {
        $crate::__task_watcher!(TASK_WATCHERS_COMM, $f);
    };
    (coredump, $f:path) => {
        $crate::__task_watcher!(TASK_WATCHERS_COREDUMP, $f);
    };
    (exit, $f:path) => {
        $crate::__task_watcher!(TASK_WATCHERS_EXIT, $f);
    };
    (free, $f:path) => {
        $crate::__task_watcher!(TASK_WATCHERS_FREE, $f);
    };
    (denied, $f:path) => {
        $crate::__task_watcher!(TASK_WATCHERS_DENIED, $f);
    };
    (lost, $f:path) => {
        $crate::__task_watcher!(TASK_WATCHERS_LOST, $f);
    };
    (any, $f:path) => {
        $crate::__task_watcher!(TASK_WATCHERS_ANY, $f);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __task_watcher {
    ($table:ident, $f:path) => {
        const _: () = {
            #[$crate::watcher::__linkme::distributed_slice($crate::watcher::tables::$table)]
            #[linkme(crate = $crate::watcher::__linkme)]
            static WATCHER: $crate::watcher::Watcher = $crate::watcher::Watcher {
                name: concat!(module_path!(), "::", stringify!($f)),
                func: $f,
            };
        };
    };
}
