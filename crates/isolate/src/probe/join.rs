//! Joining gaps with traced interruptions on the same clock: a gap is attributed to every
//! interruption that overlaps it, and summarised by the longest of them; a gap with none
//! is unexplained (hardware, SMI or the hypervisor: steal time says how much the host took).

use crate::attribution::{Class, Interruption, Summary};

use super::busy_loop::Gap;

/// A gap and what overlapped it.
#[derive(Debug, Clone)]
pub struct ExplainedGap {
    /// The gap.
    pub gap: Gap,
    /// Indexes into the interruption list, longest first.
    pub causes: Vec<usize>,
}

impl ExplainedGap {
    /// The main cause's (class, detail), or unexplained.
    pub fn main<'a>(&self, interruptions: &'a [Interruption]) -> (Class, &'a str) {
        match self.causes.first() {
            Some(&i) => (interruptions[i].class, interruptions[i].detail.as_str()),
            None => (Class::Unexplained, UNEXPLAINED),
        }
    }
}

/// The detail of unexplained gaps.
pub const UNEXPLAINED: &str = "no traced cause (hardware, SMI or hypervisor)";

/// Attributes each gap. `interruptions` must be sorted by start.
pub fn join(gaps: &[Gap], interruptions: &[Interruption]) -> Vec<ExplainedGap> {
    // Interruptions end by their start + longest duration: scan a window per gap.
    let longest = interruptions
        .iter()
        .map(Interruption::duration_ns)
        .max()
        .unwrap_or(0);
    gaps.iter()
        .map(|gap| {
            let from = interruptions
                .partition_point(|i| i.start_ns.saturating_add(longest) < gap.start_ns);
            let mut causes: Vec<usize> = (from..interruptions.len())
                .take_while(|&k| interruptions[k].start_ns <= gap.end_ns)
                .filter(|&k| interruptions[k].end_ns >= gap.start_ns)
                .collect();
            causes.sort_by_key(|&k| std::cmp::Reverse(interruptions[k].duration_ns()));
            ExplainedGap { gap: *gap, causes }
        })
        .collect()
}

/// Gaps summed by main cause: count, total and longest gap.
pub fn summarize(explained: &[ExplainedGap], interruptions: &[Interruption]) -> Summary {
    let mut summary = Summary::default();
    for e in explained {
        let (class, detail) = e.main(interruptions);
        summary.add_counted(class, detail, e.gap.duration_ns());
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(class: Class, start: u64, end: u64) -> Interruption {
        Interruption {
            class,
            detail: class.name().into(),
            start_ns: start,
            end_ns: end,
        }
    }

    #[test]
    fn overlap_longest_first_and_unexplained() {
        let ints = vec![
            int(Class::Tick, 100, 110),
            int(Class::Softirq, 105, 140),
            int(Class::Irq, 500, 520),
        ];
        let gaps = [
            Gap {
                start_ns: 95,
                end_ns: 150,
            },
            Gap {
                start_ns: 300,
                end_ns: 320,
            },
            Gap {
                start_ns: 510,
                end_ns: 530,
            },
        ];
        let e = join(&gaps, &ints);
        assert_eq!(e[0].causes, vec![1, 0]);
        assert_eq!(e[0].main(&ints).0, Class::Softirq);
        assert!(e[1].causes.is_empty());
        assert_eq!(e[1].main(&ints), (Class::Unexplained, UNEXPLAINED));
        assert_eq!(e[2].causes, vec![2]);
        let s = summarize(&e, &ints);
        assert_eq!(s.get(Class::Softirq, "softirq").unwrap().total_ns, 55);
        assert_eq!(s.get(Class::Unexplained, UNEXPLAINED).unwrap().count, 1);
    }
}
