//! The delay accounting classes of a `Taskstats` as one list: count, total, and (by version)
//! the shortest and longest wait and when the longest ended.

use super::{Taskstats, Timespec};

/// What a task waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DelayClass {
    /// A CPU, while runnable (filled even with `kernel.task_delayacct = 0`).
    Cpu,
    /// Synchronous block I/O.
    Blkio,
    /// Swap-in.
    Swapin,
    /// Memory reclaim (`freepages`).
    Freepages,
    /// Page cache thrashing.
    Thrashing,
    /// Memory compaction.
    Compact,
    /// Write-protect copy (copy-on-write faults).
    Wpcopy,
    /// IRQ and softirq time charged to the task.
    Irq,
}

impl DelayClass {
    /// Every class, in the kernel's order.
    pub const ALL: [DelayClass; 8] = [
        DelayClass::Cpu,
        DelayClass::Blkio,
        DelayClass::Swapin,
        DelayClass::Freepages,
        DelayClass::Thrashing,
        DelayClass::Compact,
        DelayClass::Wpcopy,
        DelayClass::Irq,
    ];

    /// The kernel's field prefix: `cpu`, `blkio`, `swapin`, `freepages`, `thrashing`,
    /// `compact`, `wpcopy`, `irq`.
    pub fn name(self) -> &'static str {
        match self {
            DelayClass::Cpu => "cpu",
            DelayClass::Blkio => "blkio",
            DelayClass::Swapin => "swapin",
            DelayClass::Freepages => "freepages",
            DelayClass::Thrashing => "thrashing",
            DelayClass::Compact => "compact",
            DelayClass::Wpcopy => "wpcopy",
            DelayClass::Irq => "irq",
        }
    }

    /// The first struct version with this class's count and total.
    pub fn since_version(self) -> u16 {
        match self {
            DelayClass::Cpu | DelayClass::Blkio | DelayClass::Swapin => 1,
            DelayClass::Freepages => 7,
            DelayClass::Thrashing => 9,
            DelayClass::Compact => 11,
            DelayClass::Wpcopy => 13,
            DelayClass::Irq => 14,
        }
    }
}

/// One class's figures. `max_ns`/`min_ns` exist from version 15, `max_at` from 17.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Delay {
    /// Number of waits (for `Irq`: of IRQ time charges).
    pub count: u64,
    /// Total ns waited; the kernel resets it to 0 on overflow.
    pub total_ns: u64,
    /// Longest wait, ns.
    pub max_ns: Option<u64>,
    /// Shortest non-zero wait, ns (0 when there was none).
    pub min_ns: Option<u64>,
    /// Wall-clock time when the longest wait ended (all zero when there was none).
    pub max_at: Option<Timespec>,
}

impl Taskstats {
    /// The figures of `class`, or `None` if this struct's version predates it.
    pub fn delay(&self, class: DelayClass) -> Option<Delay> {
        if self.version < class.since_version() {
            return None;
        }
        let (count, total_ns, max, min, max_at) = match class {
            DelayClass::Cpu => (
                self.cpu_count,
                self.cpu_delay_total,
                self.cpu_delay_max,
                self.cpu_delay_min,
                self.cpu_delay_max_ts,
            ),
            DelayClass::Blkio => (
                self.blkio_count,
                self.blkio_delay_total,
                self.blkio_delay_max,
                self.blkio_delay_min,
                self.blkio_delay_max_ts,
            ),
            DelayClass::Swapin => (
                self.swapin_count,
                self.swapin_delay_total,
                self.swapin_delay_max,
                self.swapin_delay_min,
                self.swapin_delay_max_ts,
            ),
            DelayClass::Freepages => (
                self.freepages_count,
                self.freepages_delay_total,
                self.freepages_delay_max,
                self.freepages_delay_min,
                self.freepages_delay_max_ts,
            ),
            DelayClass::Thrashing => (
                self.thrashing_count,
                self.thrashing_delay_total,
                self.thrashing_delay_max,
                self.thrashing_delay_min,
                self.thrashing_delay_max_ts,
            ),
            DelayClass::Compact => (
                self.compact_count,
                self.compact_delay_total,
                self.compact_delay_max,
                self.compact_delay_min,
                self.compact_delay_max_ts,
            ),
            DelayClass::Wpcopy => (
                self.wpcopy_count,
                self.wpcopy_delay_total,
                self.wpcopy_delay_max,
                self.wpcopy_delay_min,
                self.wpcopy_delay_max_ts,
            ),
            DelayClass::Irq => (
                self.irq_count,
                self.irq_delay_total,
                self.irq_delay_max,
                self.irq_delay_min,
                self.irq_delay_max_ts,
            ),
        };
        let extremes = self.version >= 15;
        Some(Delay {
            count,
            total_ns,
            max_ns: extremes.then_some(max),
            min_ns: extremes.then_some(min),
            max_at: (self.version >= 17).then_some(max_at),
        })
    }

    /// Every class this struct's version has, in the kernel's order.
    pub fn delays(&self) -> Vec<(DelayClass, Delay)> {
        DelayClass::ALL
            .into_iter()
            .filter_map(|class| Some((class, self.delay(class)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(version: u16) -> Taskstats {
        Taskstats {
            version,
            cpu_count: 3,
            cpu_delay_total: 300,
            cpu_delay_max: 200,
            cpu_delay_min: 10,
            irq_count: 1,
            cpu_delay_max_ts: Timespec { sec: 5, nsec: 6 },
            ..Taskstats::default()
        }
    }

    #[test]
    fn classes_and_extremes_follow_the_version() {
        let classes =
            |v: u16| -> Vec<DelayClass> { stats(v).delays().into_iter().map(|(c, _)| c).collect() };
        assert_eq!(
            classes(1),
            [DelayClass::Cpu, DelayClass::Blkio, DelayClass::Swapin]
        );
        assert_eq!(classes(8).len(), 4);
        assert_eq!(classes(12).len(), 6);
        assert_eq!(classes(13).len(), 7);
        assert_eq!(classes(14), DelayClass::ALL);
        let cpu = |v| stats(v).delay(DelayClass::Cpu).unwrap();
        assert_eq!(
            (cpu(14).count, cpu(14).total_ns, cpu(14).max_ns),
            (3, 300, None)
        );
        assert_eq!(
            (cpu(16).max_ns, cpu(16).min_ns, cpu(16).max_at),
            (Some(200), Some(10), None)
        );
        assert_eq!(cpu(17).max_at, Some(Timespec { sec: 5, nsec: 6 }));
        assert_eq!(stats(13).delay(DelayClass::Irq), None);
        assert_eq!(stats(14).delay(DelayClass::Irq).unwrap().count, 1);
        assert_eq!(DelayClass::Wpcopy.name(), "wpcopy");
    }
}
