//! /proc/interrupts parsed from its text: a count per online CPU for every interrupt, and
//! the description after the counts (chip, hardware IRQ and type, handler names).
//!
//! Columns are online CPUs only, named by the header ("CPU0 CPU1 CPU3"), so a column's
//! index is not its CPU number. Rows like "ERR:" carry a single total.

/// One row: an IRQ number or a per-CPU vector name ("LOC", "RES", ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Row {
    pub(super) label: String,
    counts: Vec<u64>,
    /// What follows the counts, with runs of spaces collapsed.
    pub(super) description: String,
}

/// The table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Interrupts {
    /// The CPU number of each column.
    cpus: Vec<u32>,
    rows: Vec<Row>,
}

impl Interrupts {
    pub(super) fn parse(text: &str) -> Interrupts {
        let mut lines = text.lines();
        let cpus = lines
            .next()
            .unwrap_or("")
            .split_whitespace()
            .filter_map(|name| name.strip_prefix("CPU")?.parse().ok())
            .collect::<Vec<u32>>();
        let rows = lines
            .filter_map(|line| {
                let (label, rest) = line.split_once(':')?;
                let mut words = rest.split_whitespace().peekable();
                let mut counts = Vec::with_capacity(cpus.len());
                while counts.len() < cpus.len() {
                    match words.peek().and_then(|w| w.parse().ok()) {
                        Some(n) => counts.push(n),
                        None => break,
                    }
                    words.next();
                }
                Some(Row {
                    label: label.trim().to_owned(),
                    counts,
                    description: words.collect::<Vec<_>>().join(" "),
                })
            })
            .collect();
        Interrupts { cpus, rows }
    }

    /// The row of IRQ `irq`, absent when it has no handler.
    pub(super) fn irq(&self, irq: u32) -> Option<&Row> {
        let label = irq.to_string();
        self.rows.iter().find(|r| r.label == label)
    }

    /// How often `row` fired on `cpu` since boot (None when the CPU has no column).
    pub(super) fn count_on(&self, row: &Row, cpu: u32) -> Option<u64> {
        let column = self.cpus.iter().position(|&c| c == cpu)?;
        row.counts.get(column).copied()
    }
}

impl Row {
    /// A short name: the last word of the description, which is the (last) handler's.
    pub(super) fn handler(&self) -> &str {
        self.description
            .rsplit(' ')
            .next()
            .filter(|w| !w.is_empty())
            .unwrap_or("?")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The head of this machine's /proc/interrupts, with CPU1 offline in the second.
    const TWO: &str = "           CPU0       CPU1       \n \
 24:          1          0  IO-APIC   5-edge      ACPI:Ged\n \
 36:          0      59684 PCI-MSIX-0000:00:02.0   1-edge      virtio1-req.0\n\
NMI:          0          0   Non-maskable interrupts\n\
ERR:          0\n";
    const HOLE: &str = "           CPU0       CPU2\n  9:  5  7  IO-APIC 9-fasteoi acpi\n";

    #[test]
    fn counts_by_cpu_number() {
        let t = Interrupts::parse(TWO);
        let row = t.irq(36).unwrap();
        assert_eq!(t.count_on(row, 1), Some(59684));
        assert_eq!(t.count_on(row, 0), Some(0));
        assert_eq!(t.count_on(row, 2), None);
        assert_eq!(row.handler(), "virtio1-req.0");
        assert_eq!(
            row.description,
            "PCI-MSIX-0000:00:02.0 1-edge virtio1-req.0"
        );
        assert!(t.irq(25).is_none());
        assert_eq!(t.rows.last().unwrap().label, "ERR");

        let t = Interrupts::parse(HOLE);
        let row = t.irq(9).unwrap();
        assert_eq!(t.count_on(row, 2), Some(7));
        assert_eq!(t.count_on(row, 1), None);
        assert_eq!(Interrupts::parse(""), Interrupts::default());
    }
}
