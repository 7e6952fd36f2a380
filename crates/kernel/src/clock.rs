//! The clocks event timestamps live on: CLOCK_MONOTONIC for the kernel's `ts_ns`, and its
//! offset to CLOCK_REALTIME for turning them into wall-clock time.

/// CLOCK_MONOTONIC now, in nanoseconds (the proc connector's timestamp clock).
pub fn monotonic_ns() -> u64 {
    crate::sys::clock::monotonic_ns()
}

/// CLOCK_REALTIME − CLOCK_MONOTONIC in nanoseconds, measured now.
pub fn realtime_minus_monotonic_ns() -> i128 {
    crate::sys::clock::realtime_minus_monotonic_ns()
}
