//! Clock reads the event model needs: CLOCK_MONOTONIC (the kernel's event timestamps)
//! and CLOCK_REALTIME, as nanoseconds.

fn read(clock: libc::clockid_t) -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid, writable timespec; both clock ids always exist on Linux.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128
}

/// CLOCK_MONOTONIC now, in ns.
pub fn monotonic_ns() -> u64 {
    read(libc::CLOCK_MONOTONIC) as u64
}

/// CLOCK_REALTIME − CLOCK_MONOTONIC, from the closest pair of three reads.
pub fn realtime_minus_monotonic_ns() -> i128 {
    (0..3)
        .map(|_| {
            let a = read(libc::CLOCK_MONOTONIC);
            let r = read(libc::CLOCK_REALTIME);
            let b = read(libc::CLOCK_MONOTONIC);
            (b - a, r - (a + b) / 2)
        })
        .min_by_key(|&(spread, _)| spread)
        .map(|(_, offset)| offset)
        .unwrap_or(0)
}
