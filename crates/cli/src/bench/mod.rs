//! `taskwatch bench`: measurements that ship with the tool, so anyone can reproduce the
//! figures in BENCHMARKS.md on their own machine.

pub mod dispatch;
pub mod subscribers;
pub mod trivial;

use std::io::Write;

use crate::args::BenchDispatchArgs;

/// `taskwatch bench dispatch`: progress on stderr, results on stdout.
pub fn run_dispatch(args: &BenchDispatchArgs) -> anyhow::Result<()> {
    // A zero in the allocations column means something only if the counter counts.
    let before = taskwatch_kernel::alloc_count::allocations();
    drop(std::hint::black_box(Box::new(0u64)));
    if taskwatch_kernel::alloc_count::allocations() == before {
        anyhow::bail!(
            "allocations are not counted in this binary: install \
             taskwatch_kernel::alloc_count::CountingAllocator as the global allocator"
        );
    }
    let rows = dispatch::measure(args.events, args.runs as usize, |done, all| {
        eprint!("\rbench dispatch: run {done}/{all}");
        if done == all {
            eprintln!();
        }
    });
    let mut out = std::io::stdout().lock();
    if args.json {
        dispatch::write_json(&rows, &mut out)?;
    } else {
        dispatch::write_human(&rows, &mut out)?;
    }
    out.flush()?;
    Ok(())
}
