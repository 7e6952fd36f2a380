//! The benchmark's watchers: trivial functions gathered by the linker into tables of 1, 8
//! and 64, the same way `task_watcher!` fills the real tables.

use std::hint::black_box;

use linkme::distributed_slice;
use taskwatch_core::watcher::Watcher;
use taskwatch_core::{Ctx, Verdict};

/// A table of one trivial watcher.
#[distributed_slice]
pub static BENCH_WATCHERS_1: [Watcher];
/// A table of eight trivial watchers.
#[distributed_slice]
pub static BENCH_WATCHERS_8: [Watcher];
/// A table of sixty-four trivial watchers.
#[distributed_slice]
pub static BENCH_WATCHERS_64: [Watcher];

/// Reads the task's pid (kept by `black_box`) and continues.
pub fn trivial<const N: usize>(ctx: &Ctx<'_>) -> Verdict {
    black_box(ctx.task.pid);
    Verdict::Continue
}

// linkme places each entry with #[link_section], which the unsafe_code lint counts; the
// entries are plain data, exactly what `task_watcher!` emits.
macro_rules! fill {
    ($table:ident; $($n:literal)*) => {$(
        #[allow(unsafe_code)]
        const _: () = {
            #[distributed_slice($table)]
            static WATCHER: Watcher = Watcher {
                name: concat!("bench::trivial_", $n),
                func: trivial::<$n>,
            };
        };
    )*};
}

fill!(BENCH_WATCHERS_1; 0);
fill!(BENCH_WATCHERS_8; 0 1 2 3 4 5 6 7);
fill!(BENCH_WATCHERS_64;
    0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
    32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60
    61 62 63);

/// The static table holding `n` trivial watchers (0, 1, 8 or 64).
pub fn table(n: usize) -> &'static [Watcher] {
    match n {
        1 => &BENCH_WATCHERS_1,
        8 => &BENCH_WATCHERS_8,
        64 => &BENCH_WATCHERS_64,
        _ => &[],
    }
}
