//! Loop-iteration latencies in 100 ns buckets up to 100 µs (exact maxima beyond), with
//! oslat's 1 µs view and percentiles.

/// Bucket width.
pub const BUCKET_NS: u64 = 100;
/// Buckets below the overflow.
const BUCKETS: usize = 1000;

/// Counts of loop iterations by latency.
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    /// Iterations at or above `BUCKETS * BUCKET_NS`, exact.
    overflow: Vec<u64>,
    total: u64,
    sum_ns: u128,
    min_ns: u64,
    max_ns: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            overflow: Vec::new(),
            total: 0,
            sum_ns: 0,
            min_ns: u64::MAX,
            max_ns: 0,
        }
    }
}

impl Histogram {
    /// Room for this many overflowing values without allocating in the loop.
    pub fn with_overflow_capacity(capacity: usize) -> Histogram {
        let mut h = Histogram::default();
        h.overflow.reserve(capacity);
        h
    }

    /// Records one iteration of `ns`.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        let index = (ns / BUCKET_NS) as usize;
        if index < BUCKETS {
            self.counts[index] += 1;
        } else if self.overflow.len() < self.overflow.capacity() {
            self.overflow.push(ns);
        } else {
            // Out of reserved room: keep the bound, never allocate in the loop.
            self.counts[BUCKETS - 1] += 1;
        }
        self.total += 1;
        self.sum_ns += u128::from(ns);
        self.min_ns = self.min_ns.min(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Iterations recorded.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Smallest, mean and largest, in ns (0s when empty).
    pub fn min_mean_max(&self) -> (u64, f64, u64) {
        if self.total == 0 {
            return (0, 0.0, 0);
        }
        (
            self.min_ns,
            self.sum_ns as f64 / self.total as f64,
            self.max_ns,
        )
    }

    /// The latency at or below which `fraction` of iterations fall, in ns (bucket upper
    /// bound below 100 µs, exact above).
    pub fn percentile(&self, fraction: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((fraction * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return ((i as u64 + 1) * BUCKET_NS).min(self.max_ns);
            }
        }
        let mut over = self.overflow.clone();
        over.sort_unstable();
        let index = (rank - seen).saturating_sub(1) as usize;
        over.get(index).copied().unwrap_or(self.max_ns)
    }

    /// oslat's buckets: iterations per whole µs, 1 to 32 (the last holds everything at or
    /// above 32 µs).
    pub fn oslat_buckets(&self) -> [u64; 32] {
        let mut out = [0u64; 32];
        let per_us = (1000 / BUCKET_NS) as usize;
        for (i, &c) in self.counts.iter().enumerate() {
            // oslat puts an iteration of n.x µs in bucket n+1 (001 holds < 1 µs).
            let us = i / per_us;
            out[us.min(31)] += c;
        }
        out[31] += self.overflow.len() as u64;
        out
    }

    /// (bucket start ns, count) for every non-empty 100 ns bucket, then overflow values.
    pub fn fine_buckets(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &c)| (i as u64 * BUCKET_NS, c))
            .chain(self.overflow.iter().map(|&v| (v, 1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_buckets_and_extremes() {
        let mut h = Histogram::with_overflow_capacity(4);
        for _ in 0..98 {
            h.record(150);
        }
        h.record(2_500);
        h.record(250_000);
        assert_eq!(h.total(), 100);
        assert_eq!(h.percentile(0.5), 200);
        assert_eq!(h.percentile(0.99), 2_600);
        assert_eq!(h.percentile(1.0), 250_000);
        let (min, mean, max) = h.min_mean_max();
        assert_eq!((min, max), (150, 250_000));
        assert!((mean - 2_672.0).abs() < 1.0);
        let b = h.oslat_buckets();
        assert_eq!((b[0], b[2], b[31]), (98, 1, 1));
        assert_eq!(Histogram::default().percentile(0.5), 0);
    }
}
