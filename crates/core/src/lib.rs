//! taskwatch's core: the event model, the watcher tables and their dispatch, and the
//! process table. No I/O: what the core needs from the system comes through `TaskProbe`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod clock;
pub mod cpulist;
pub mod dispatch;
pub mod dynamic;
pub mod event;
pub mod exit_json;
pub mod exit_record;
pub mod exit_stats;
pub mod exit_status;
pub mod json;
pub mod probe;
pub mod stats_join;
pub mod table;
pub mod task;
pub mod timing;
pub mod watcher;

pub use dispatch::Dispatcher;
pub use event::{Event, EventKind, Kind, LossSource};
pub use exit_status::ExitStatus;
pub use table::ProcessTable;
pub use task::{Argv, Comm, Creds, Ids, Task, TaskSnapshot};
pub use watcher::{Ctx, Verdict, Watcher};
