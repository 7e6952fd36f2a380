//! `taskwatch record`: every task lifetime, from fork to exit with its changes and the
//! kernel's statistics, handed to the history store's writer without ever blocking.

mod lifetime;
mod state;

use taskwatch_core::{task_watcher, Ctx, Verdict};

pub use state::{LifetimeRecorder, RecordCounts};

use crate::session;

fn record(ctx: &Ctx<'_>) -> Verdict {
    session::with(|s| {
        if let Some(r) = s.recorder.as_mut() {
            r.on_event(ctx, &s.clock);
        }
    });
    Verdict::Continue
}

task_watcher!(init, record);
task_watcher!(exec, record);
task_watcher!(uid, record);
task_watcher!(gid, record);
task_watcher!(sid, record);
task_watcher!(ptrace, record);
task_watcher!(comm, record);
task_watcher!(exit, record);
task_watcher!(free, record);
task_watcher!(lost, record);
