//! taskwatch plus eight trivial watchers on every event, linked in the one-line way a
//! user would: bench/storm_watchers.py compares its storm cost with plain taskwatch.

use std::hint::black_box;
use std::process::ExitCode;

use taskwatch_core::{task_watcher, Ctx, Verdict};

#[global_allocator]
static ALLOCATOR: taskwatch_kernel::alloc_count::CountingAllocator =
    taskwatch_kernel::alloc_count::CountingAllocator;

/// Reads the task's pid and continues: the least a watcher can do.
fn trivial<const N: usize>(ctx: &Ctx<'_>) -> Verdict {
    black_box(ctx.task.pid);
    Verdict::Continue
}

task_watcher!(any, trivial::<0>);
task_watcher!(any, trivial::<1>);
task_watcher!(any, trivial::<2>);
task_watcher!(any, trivial::<3>);
task_watcher!(any, trivial::<4>);
task_watcher!(any, trivial::<5>);
task_watcher!(any, trivial::<6>);
task_watcher!(any, trivial::<7>);

fn main() -> ExitCode {
    taskwatch::main()
}
