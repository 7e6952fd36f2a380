//! Allocation counting for benchmarks: install `CountingAllocator` as the global allocator,
//! then read `allocations()` before and after the code under test.

pub use crate::sys::alloc_count::{allocations, CountingAllocator};
