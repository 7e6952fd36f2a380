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
        ($($name:ident),*) => {$(
            #[doc = concat!("Watchers of `", stringify!($name), "` events.")]
            #[distributed_slice]
            pub static $name: [Watcher];
        )*};
    }
    tables!(INIT, FORK, EXEC, UID, GID, SID, PTRACE, COMM, COREDUMP, EXIT, FREE, DENIED, LOST, ANY);
}

/// The static table for one kind.
pub fn table(kind: Kind) -> &'static [Watcher] {
    use tables::*;
    match kind {
        Kind::Init => &INIT,
        Kind::Fork => &FORK,
        Kind::Exec => &EXEC,
        Kind::Uid => &UID,
        Kind::Gid => &GID,
        Kind::Sid => &SID,
        Kind::Ptrace => &PTRACE,
        Kind::Comm => &COMM,
        Kind::Coredump => &COREDUMP,
        Kind::Exit => &EXIT,
        Kind::Free => &FREE,
        Kind::Denied => &DENIED,
        Kind::Lost => &LOST,
    }
}

/// The table of watchers called for every event.
pub fn any_table() -> &'static [Watcher] {
    &tables::ANY
}

#[doc(hidden)]
pub use linkme as __linkme;

/// Registers a watcher function for an event kind, in one line:
/// `task_watcher!(exec, audit_exec);`. Kinds: `init`, `fork` (or `clone`), `exec`, `uid`,
/// `gid`, `sid`, `ptrace`, `comm`, `coredump`, `exit`, `free`, `denied`, `lost`, `any`.
#[macro_export]
macro_rules! task_watcher {
    (init, $f:path) => {
        $crate::__task_watcher!(INIT, $f);
    };
    (fork, $f:path) => {
        $crate::__task_watcher!(FORK, $f);
    };
    (clone, $f:path) => {
        $crate::__task_watcher!(FORK, $f);
    };
    (exec, $f:path) => {
        $crate::__task_watcher!(EXEC, $f);
    };
    (uid, $f:path) => {
        $crate::__task_watcher!(UID, $f);
    };
    (gid, $f:path) => {
        $crate::__task_watcher!(GID, $f);
    };
    (sid, $f:path) => {
        $crate::__task_watcher!(SID, $f);
    };
    (ptrace, $f:path) => {
        $crate::__task_watcher!(PTRACE, $f);
    };
    (comm, $f:path) => {
        $crate::__task_watcher!(COMM, $f);
    };
    (coredump, $f:path) => {
        $crate::__task_watcher!(COREDUMP, $f);
    };
    (exit, $f:path) => {
        $crate::__task_watcher!(EXIT, $f);
    };
    (free, $f:path) => {
        $crate::__task_watcher!(FREE, $f);
    };
    (denied, $f:path) => {
        $crate::__task_watcher!(DENIED, $f);
    };
    (lost, $f:path) => {
        $crate::__task_watcher!(LOST, $f);
    };
    (any, $f:path) => {
        $crate::__task_watcher!(ANY, $f);
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
