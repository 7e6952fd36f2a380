//! Clock ticks: the unit of /proc/PID/stat's starttime, converted to nanoseconds.
//! The rate is sysconf(_SC_CLK_TCK), which glibc takes from the AT_CLKTCK auxv entry.

use std::sync::OnceLock;

/// The auxv entry type carrying USER_HZ.
const AT_CLKTCK: usize = 17;
/// The auxv terminator.
const AT_NULL: usize = 0;
/// USER_HZ on every architecture taskwatch runs on; glibc's fallback too.
const DEFAULT_CLK_TCK: u64 = 100;

/// Clock ticks per second (USER_HZ), read once from /proc/self/auxv.
///
/// Same value as `sysconf(_SC_CLK_TCK)`: glibc answers that from AT_CLKTCK (falling back
/// to 100 when absent); reading auxv gives it without an unsafe libc call.
pub fn clock_ticks_per_sec() -> u64 {
    static HZ: OnceLock<u64> = OnceLock::new();
    *HZ.get_or_init(|| {
        std::fs::read("/proc/self/auxv")
            .ok()
            .and_then(|auxv| clk_tck_from_auxv(&auxv))
            .filter(|&hz| hz > 0)
            .unwrap_or(DEFAULT_CLK_TCK)
    })
}

/// Finds AT_CLKTCK in a native-endian auxiliary vector (pairs of machine words).
pub fn clk_tck_from_auxv(auxv: &[u8]) -> Option<u64> {
    const W: usize = std::mem::size_of::<usize>();
    let word = |b: &[u8]| usize::from_ne_bytes(b.try_into().expect("chunk of word size"));
    for pair in auxv.chunks_exact(2 * W) {
        match word(&pair[..W]) {
            AT_NULL => return None,
            AT_CLKTCK => return Some(word(&pair[W..]) as u64),
            _ => {}
        }
    }
    None
}

/// Converts clock ticks to nanoseconds at `hz` ticks per second (saturating).
pub fn ticks_to_ns(ticks: u64, hz: u64) -> u64 {
    let ns = u128::from(ticks) * 1_000_000_000 / u128::from(hz.max(1));
    u64::try_from(ns).unwrap_or(u64::MAX)
}

/// The length of one clock tick in nanoseconds.
pub fn tick_ns() -> u64 {
    ticks_to_ns(1, clock_ticks_per_sec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auxv(pairs: &[(usize, usize)]) -> Vec<u8> {
        pairs
            .iter()
            .flat_map(|&(k, v)| [k.to_ne_bytes(), v.to_ne_bytes()])
            .flatten()
            .collect()
    }

    #[test]
    fn finds_clktck() {
        assert_eq!(
            clk_tck_from_auxv(&auxv(&[(6, 4096), (17, 100), (0, 0)])),
            Some(100)
        );
        assert_eq!(
            clk_tck_from_auxv(&auxv(&[(6, 4096), (0, 0), (17, 250)])),
            None
        );
        assert_eq!(clk_tck_from_auxv(&auxv(&[(6, 4096)])[..5]), None);
    }

    #[test]
    fn converts_ticks() {
        assert_eq!(ticks_to_ns(31084, 100), 310_840_000_000);
        assert_eq!(ticks_to_ns(3, 1024), 2_929_687);
        assert_eq!(ticks_to_ns(u64::MAX, 1), u64::MAX);
    }

    #[test]
    fn reads_this_machines_rate() {
        assert!(clock_ticks_per_sec() >= 1);
    }
}
