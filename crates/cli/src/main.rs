//! The `taskwatch` binary: the library's `main`, with allocation counting for
//! `taskwatch bench dispatch` (a thread-local counter: no contention, no lock).

use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: taskwatch_kernel::alloc_count::CountingAllocator =
    taskwatch_kernel::alloc_count::CountingAllocator;

fn main() -> ExitCode {
    taskwatch::main()
}
