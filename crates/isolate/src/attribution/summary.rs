//! Interruptions summed by (class, detail): count, total and max duration, printed as a
//! table or as the JSON contract's summary line.
//!
//! JSON: `{"summary": true, "cpu": N, "duration_ns": D, "causes": [{"class": "tick",
//! "detail": "...", "count": n, "total_ns": t, "max_ns": m}, ...]}`, causes sorted by
//! total time, largest first; callers may add fields (the probe adds "gaps",
//! "attributed", "max_gap_ns").

use std::collections::HashMap;
use std::io::Write;

use taskwatch_core::json::push_str;

use super::cause::{Class, Interruption};

/// One line of the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The class.
    pub class: Class,
    /// The detail.
    pub detail: String,
    /// How many times.
    pub count: u64,
    /// Summed duration.
    pub total_ns: u64,
    /// Longest one.
    pub max_ns: u64,
}

/// Interruptions of one CPU over a run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    rows: HashMap<(Class, String), Row>,
}

impl Summary {
    /// Adds one interruption.
    pub fn add(&mut self, i: &Interruption) {
        self.add_counted(i.class, &i.detail, i.duration_ns());
    }

    /// Adds one occurrence of (class, detail) lasting `duration_ns`.
    pub fn add_counted(&mut self, class: Class, detail: &str, duration_ns: u64) {
        let row = self
            .rows
            .entry((class, detail.to_owned()))
            .or_insert_with(|| Row {
                class,
                detail: detail.to_owned(),
                count: 0,
                total_ns: 0,
                max_ns: 0,
            });
        row.count += 1;
        // Durations come from record bytes (an NMI's delta_ns): saturate, never wrap.
        row.total_ns = row.total_ns.saturating_add(duration_ns);
        row.max_ns = row.max_ns.max(duration_ns);
    }

    /// Rows by total time, largest first (then class, detail).
    pub fn rows(&self) -> Vec<&Row> {
        let mut rows: Vec<&Row> = self.rows.values().collect();
        rows.sort_by(|a, b| {
            b.total_ns
                .cmp(&a.total_ns)
                .then(a.class.cmp(&b.class))
                .then(a.detail.cmp(&b.detail))
        });
        rows
    }

    /// The row for (class, detail), if any.
    pub fn get(&self, class: Class, detail: &str) -> Option<&Row> {
        self.rows.get(&(class, detail.to_owned()))
    }

    /// A table: class, detail, count, total and max in µs; the `max_rows` largest
    /// totals, then a line saying how many more there are.
    pub fn write_table(&self, out: &mut impl Write, max_rows: usize) -> std::io::Result<()> {
        let all = self.rows();
        let hidden = all.len().saturating_sub(max_rows);
        let rows: Vec<&Row> = all.into_iter().take(max_rows).collect();
        let width = rows
            .iter()
            .map(|r| r.detail.len())
            .max()
            .unwrap_or(6)
            .clamp(6, 72);
        writeln!(
            out,
            "{:<11} {:<width$} {:>8} {:>12} {:>10}",
            "class", "detail", "count", "total_us", "max_us"
        )?;
        for r in rows {
            let mut detail = r.detail.clone();
            if detail.len() > width {
                let cut = (0..=width - 3)
                    .rev()
                    .find(|&i| detail.is_char_boundary(i))
                    .unwrap_or(0);
                detail.truncate(cut);
                detail.push_str("...");
            }
            writeln!(
                out,
                "{:<11} {:<width$} {:>8} {:>12.1} {:>10.1}",
                r.class.name(),
                detail,
                r.count,
                r.total_ns as f64 / 1e3,
                r.max_ns as f64 / 1e3
            )?;
        }
        if hidden > 0 {
            writeln!(out, "... and {hidden} more rows (--json lists them all)")?;
        }
        Ok(())
    }

    /// The JSON summary line (with its newline), with `extra` fields appended.
    pub fn write_json(
        &self,
        out: &mut Vec<u8>,
        cpu: u32,
        duration_ns: u64,
        extra: &[(&str, String)],
    ) {
        let _ = write!(
            out,
            "{{\"summary\":true,\"cpu\":{cpu},\"duration_ns\":{duration_ns},\"causes\":["
        );
        for (i, r) in self.rows().into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"class\":");
            push_str(out, r.class.name().as_bytes());
            out.extend_from_slice(b",\"detail\":");
            push_str(out, r.detail.as_bytes());
            let _ = write!(
                out,
                ",\"count\":{},\"total_ns\":{},\"max_ns\":{}}}",
                r.count, r.total_ns, r.max_ns
            );
        }
        out.push(b']');
        for (key, value) in extra {
            out.push(b',');
            push_str(out, key.as_bytes());
            out.push(b':');
            out.extend_from_slice(value.as_bytes());
        }
        out.extend_from_slice(b"}\n");
    }
}

/// One timeline line: `{"time_ns":T,"cpu":N,"class":"...","detail":"...","duration_ns":D}`.
pub fn write_timeline_line(out: &mut Vec<u8>, cpu: u32, i: &Interruption) {
    let _ = write!(out, "{{\"time_ns\":{},\"cpu\":{cpu},\"class\":", i.start_ns);
    push_str(out, i.class.name().as_bytes());
    out.extend_from_slice(b",\"detail\":");
    push_str(out, i.detail.as_bytes());
    let _ = writeln!(out, ",\"duration_ns\":{}}}", i.duration_ns());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_sum_and_sort_and_json_parses() {
        let mut s = Summary::default();
        for (class, detail, d) in [
            (Class::Tick, "tick", 10),
            (Class::Tick, "tick", 30),
            (Class::Irq, "virtio \"0\"", 100),
        ] {
            s.add(&Interruption {
                class,
                detail: detail.into(),
                start_ns: 1000,
                end_ns: 1000 + d,
            });
        }
        let rows = s.rows();
        assert_eq!(rows[0].class, Class::Irq);
        assert_eq!(
            (rows[1].count, rows[1].total_ns, rows[1].max_ns),
            (2, 40, 30)
        );
        let mut out = Vec::new();
        s.write_json(&mut out, 1, 5000, &[("gaps", "3".into())]);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["summary"], true);
        assert_eq!(v["cpu"], 1);
        assert_eq!(v["gaps"], 3);
        assert_eq!(v["causes"][0]["detail"], "virtio \"0\"");
        assert_eq!(v["causes"][1]["class"], "tick");
        assert_eq!(v["causes"][1]["max_ns"], 30);
        let mut table = Vec::new();
        s.write_table(&mut table, 10).unwrap();
        let table = String::from_utf8(table).unwrap();
        assert!(
            table.lines().nth(2).unwrap().starts_with("tick "),
            "{table}"
        );
    }

    #[test]
    fn summary_totals_saturate_instead_of_overflowing() {
        let mut s = Summary::default();
        for _ in 0..3 {
            s.add_counted(Class::Nmi, "handler", u64::MAX / 2);
        }
        let row = s.get(Class::Nmi, "handler").unwrap();
        assert_eq!(
            (row.count, row.total_ns, row.max_ns),
            (3, u64::MAX, u64::MAX / 2)
        );
    }
}
