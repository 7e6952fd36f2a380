//! The probe's measuring loop: read CLOCK_MONOTONIC (the vDSO, no system call) as fast as
//! possible on the CPU; every iteration is a latency sample, every one over the threshold
//! a gap with its start and end on the clock the tracepoints use.

use taskwatch_kernel::task_control::monotonic_ns;

use super::histogram::Histogram;

/// A stretch over the threshold between two consecutive clock reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// The read before the gap.
    pub start_ns: u64,
    /// The read after it.
    pub end_ns: u64,
}

impl Gap {
    /// end − start.
    pub fn duration_ns(&self) -> u64 {
        self.end_ns - self.start_ns
    }
}

/// What the loop measured.
#[derive(Debug, Clone)]
pub struct LoopResult {
    /// Every iteration's latency.
    pub histogram: Histogram,
    /// Gaps over the threshold, in time order.
    pub gaps: Vec<Gap>,
    /// Gaps that did not fit in the reserved room (counted, not kept).
    pub gaps_dropped: u64,
    /// First read.
    pub start_ns: u64,
    /// Last read.
    pub end_ns: u64,
}

/// Spins for `duration_ns`, recording gaps over `threshold_ns`; keeps at most
/// `max_gaps` (reserved and touched up front, so the loop neither allocates nor faults).
pub fn spin(duration_ns: u64, threshold_ns: u64, max_gaps: usize) -> LoopResult {
    let mut gaps = vec![
        Gap {
            start_ns: 0,
            end_ns: 0
        };
        max_gaps
    ];
    let mut histogram = Histogram::with_overflow_capacity(max_gaps);
    let mut kept = 0usize;
    let mut dropped = 0u64;
    let start = monotonic_ns();
    let end = start.saturating_add(duration_ns);
    let mut previous = start;
    loop {
        let now = monotonic_ns();
        let delta = now - previous;
        histogram.record(delta);
        if delta > threshold_ns {
            if kept < max_gaps {
                gaps[kept] = Gap {
                    start_ns: previous,
                    end_ns: now,
                };
                kept += 1;
            } else {
                dropped += 1;
            }
        }
        previous = now;
        if now >= end {
            break;
        }
    }
    gaps.truncate(kept);
    LoopResult {
        histogram,
        gaps,
        gaps_dropped: dropped,
        start_ns: start,
        end_ns: previous,
    }
}
