//! Per-CPU sequence numbers of proc connector messages: a gap is an exact count of
//! messages the kernel sent on that CPU and this socket never received.

/// Highest CPU number tracked; larger values come from malformed input and are ignored.
const MAX_CPUS: u32 = 1 << 16;

/// Next expected `cn_msg.seq` per CPU.
#[derive(Debug, Default, Clone)]
pub struct SeqTracker {
    next: Vec<Option<u32>>,
}

impl SeqTracker {
    /// Records `seq` from `cpu`; returns how many messages were skipped before it.
    pub fn observe(&mut self, cpu: u32, seq: u32) -> Option<u64> {
        if cpu >= MAX_CPUS {
            return None;
        }
        let idx = cpu as usize;
        if self.next.len() <= idx {
            self.next.resize(idx + 1, None);
        }
        let expected = self.next[idx].replace(seq.wrapping_add(1))?;
        let gap = seq.wrapping_sub(expected);
        // A huge "gap" is a message from before one already seen: not a loss.
        (gap != 0 && gap < u32::MAX / 2).then_some(gap as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_exact_per_cpu() {
        let mut t = SeqTracker::default();
        assert_eq!(t.observe(0, 10), None);
        assert_eq!(t.observe(1, 500), None);
        assert_eq!(t.observe(0, 11), None);
        assert_eq!(t.observe(0, 15), Some(3));
        assert_eq!(t.observe(1, 501), None);
        assert_eq!(t.observe(0, 14), None); // older than the last one seen: not a loss
        assert_eq!(t.observe(2, u32::MAX), None);
        assert_eq!(t.observe(2, 1), Some(1)); // wrapped; 0 was skipped
        assert_eq!(t.observe(MAX_CPUS, 1), None);
    }
}
