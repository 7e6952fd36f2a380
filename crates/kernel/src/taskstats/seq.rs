//! Sequence accounting for a shard that listens to one CPU: exit datagrams carry that
//! CPU's taskstats counter as `nlmsg_seq`, so a gap counts lost exits exactly.
//!
//! The kernel takes the counter of the CPU the exiting task runs on when it builds the
//! message, but picked the listener list earlier; a task preempted and migrated in between
//! (or two exits racing on one CPU) can deliver a seq out of order, or another CPU's seq.
//! So a gap is only declared lost once the socket's drop counter accounts for it; until
//! then the early datagram waits "ahead", and one that never fits is out of sequence.
//!
//! Invariant: `received + lost == next - first` (wrapping) at all times.

/// Most early seqs remembered; beyond, the farthest is given up as out of sequence.
const AHEAD_MAX: usize = 64;

/// What one observed seq was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// The next expected one (or the first): counted.
    InOrder,
    /// Beyond a gap: held until the drop counter shows the gap was lost.
    Ahead,
    /// Before the expected one, a duplicate, or evicted from the ahead set: not counted.
    OutOfSequence,
}

/// The accounted range of one CPU's seqs, for reports and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeqRange {
    /// The first seq received.
    pub first: u32,
    /// The seq expected next: every seq in `first..next` was received or counted lost.
    pub next: u32,
    /// Datagrams received within the range.
    pub received: u64,
    /// Seqs of the range counted lost.
    pub lost: u64,
}

/// Sequence state of one CPU.
#[derive(Debug, Default, Clone)]
pub(crate) struct CpuSeq {
    range: Option<SeqRange>,
    ahead: Vec<u32>,
    out_of_sequence: u64,
}

impl CpuSeq {
    /// Takes the seq of one received exit datagram.
    pub(crate) fn observe(&mut self, seq: u32) -> Seen {
        let Some(range) = self.range.as_mut() else {
            self.range = Some(SeqRange {
                first: seq,
                next: seq.wrapping_add(1),
                received: 1,
                lost: 0,
            });
            return Seen::InOrder;
        };
        let distance = seq.wrapping_sub(range.next);
        if distance == 0 {
            range.next = seq.wrapping_add(1);
            range.received += 1;
            self.absorb();
            return Seen::InOrder;
        }
        if distance >= 1 << 31 || self.ahead.contains(&seq) {
            self.out_of_sequence += 1;
            return Seen::OutOfSequence;
        }
        self.ahead.push(seq);
        if self.ahead.len() > AHEAD_MAX {
            let next = range.next;
            if let Some(far) =
                (0..self.ahead.len()).max_by_key(|&i| self.ahead[i].wrapping_sub(next))
            {
                self.ahead.swap_remove(far);
                self.out_of_sequence += 1;
            }
        }
        Seen::Ahead
    }

    /// Declares lost the gaps before held seqs, nearest first, while `drops` (messages the
    /// socket dropped and nobody has counted yet) covers them. Returns the seqs declared.
    pub(crate) fn resolve(&mut self, drops: u64) -> u64 {
        let mut used = 0;
        while let Some(range) = self.range.as_mut() {
            let next = range.next;
            let Some((i, gap)) = self
                .ahead
                .iter()
                .map(|s| s.wrapping_sub(next) as u64)
                .enumerate()
                .min_by_key(|&(_, gap)| gap)
            else {
                break;
            };
            if gap > drops - used {
                break;
            }
            used += gap;
            range.lost += gap;
            range.next = self.ahead.swap_remove(i).wrapping_add(1);
            range.received += 1;
            self.absorb();
        }
        used
    }

    /// Gives up every held seq (at the end): they count as out of sequence.
    pub(crate) fn abandon_ahead(&mut self) {
        self.out_of_sequence += self.ahead.len() as u64;
        self.ahead.clear();
    }

    /// Seqs counted lost so far.
    pub(crate) fn lost(&self) -> u64 {
        self.range.map_or(0, |r| r.lost)
    }

    /// Datagrams that fell outside the range.
    pub(crate) fn out_of_sequence(&self) -> u64 {
        self.out_of_sequence
    }

    /// The accounted range, once a seq was seen.
    pub(crate) fn range(&self) -> Option<SeqRange> {
        self.range
    }

    fn absorb(&mut self) {
        let Some(range) = self.range.as_mut() else {
            return;
        };
        while let Some(i) = self.ahead.iter().position(|&s| s == range.next) {
            self.ahead.swap_remove(i);
            range.next = range.next.wrapping_add(1);
            range.received += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(seq: &CpuSeq) {
        let r = seq.range().unwrap();
        assert_eq!(
            r.received + r.lost,
            r.next.wrapping_sub(r.first) as u64,
            "{r:?}"
        );
    }

    #[test]
    fn in_order_and_a_gap_the_drop_counter_confirms() {
        let mut s = CpuSeq::default();
        assert_eq!(s.observe(10), Seen::InOrder);
        assert_eq!(s.observe(11), Seen::InOrder);
        assert_eq!(s.observe(15), Seen::Ahead);
        assert_eq!(s.observe(16), Seen::Ahead);
        assert_eq!(s.resolve(2), 0); // not enough drops for the gap of 3
        assert_eq!(s.resolve(5), 3);
        assert_eq!(s.range().unwrap().next, 17);
        assert_eq!(s.lost(), 3);
        holds(&s);
    }

    #[test]
    fn reordered_exits_are_not_loss() {
        let mut s = CpuSeq::default();
        s.observe(100);
        assert_eq!(s.observe(102), Seen::Ahead);
        assert_eq!(s.observe(101), Seen::InOrder);
        assert_eq!(s.range().unwrap().next, 103);
        assert_eq!(s.resolve(0), 0);
        assert_eq!(s.lost(), 0);
        holds(&s);
    }

    #[test]
    fn another_cpus_seq_is_out_of_sequence_not_loss() {
        let mut s = CpuSeq::default();
        s.observe(500);
        assert_eq!(s.observe(20), Seen::OutOfSequence); // behind
        assert_eq!(s.observe(900), Seen::Ahead); // far ahead, no drops
        for seq in 501..600 {
            assert_eq!(s.observe(seq), Seen::InOrder);
        }
        assert_eq!(s.resolve(0), 0);
        s.abandon_ahead();
        assert_eq!(s.out_of_sequence(), 2);
        assert_eq!(s.lost(), 0);
        holds(&s);
    }

    #[test]
    fn wraps_and_evicts() {
        let mut s = CpuSeq::default();
        s.observe(u32::MAX - 1);
        assert_eq!(s.observe(u32::MAX), Seen::InOrder);
        assert_eq!(s.observe(0), Seen::InOrder);
        assert_eq!(s.observe(3), Seen::Ahead);
        assert_eq!(s.resolve(2), 2);
        assert_eq!(s.range().unwrap().next, 4);
        holds(&s);
        for seq in 10..10 + AHEAD_MAX as u32 + 1 {
            s.observe(seq);
        }
        assert_eq!(s.out_of_sequence(), 1);
        assert_eq!(s.resolve(6), 6);
        assert_eq!(s.range().unwrap().next, 10 + AHEAD_MAX as u32);
        holds(&s);
    }
}
