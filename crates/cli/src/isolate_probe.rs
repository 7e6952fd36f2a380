//! `taskwatch isolate probe --cpu N --duration D`: spin on a CPU reading the clock, like
//! oslat; each gap over the threshold is joined with what the CPU's tracepoints saw then.
//!
//! Human output: oslat's histogram and figures, percentiles, then the gaps by main cause.
//! `--json`: one line per gap (`{"time_ns":..,"duration_ns":..,"class":..,"detail":..,
//! "causes":[{"class":..,"detail":..},..]}`) then the contract's summary line, whose
//! causes count gaps by main cause and which adds "gaps", "attributed", "max_gap_ns",
//! "gaps_over_10us", "attributed_over_10us", "loops", "steal_ns", "lost",
//! "percentiles_ns" and "histogram_us" (oslat's 32 buckets).
//! `--plot FILE.svg` draws the gap timeline and the histogram.

use std::io::Write;

use anyhow::Context as _;
use taskwatch_core::json::push_str;
use taskwatch_isolate::probe::{self, svg, ProbeOptions, ProbeOutcome};

use crate::isolate_units::parse_duration_ns;

/// Arguments of `isolate probe`.
#[derive(Debug, Clone, clap::Args)]
pub struct ProbeArgs {
    /// The CPU to probe (taskwatch's other threads move off it).
    #[arg(long, value_name = "N")]
    pub cpu: u32,
    /// How long to spin (e.g. 10s, 500ms).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ns)]
    pub duration: u64,
    /// Gaps longer than this are attributed (e.g. 1us, 500ns).
    #[arg(long, value_name = "DURATION", default_value = "1us", value_parser = parse_duration_ns)]
    pub threshold: u64,
    /// Gap lines and the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Write an SVG with the gap timeline and the histogram.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<std::path::PathBuf>,
}

const PERCENTILES: [(&str, f64); 5] = [
    ("p50", 0.5),
    ("p90", 0.9),
    ("p99", 0.99),
    ("p99.9", 0.999),
    ("p99.99", 0.9999),
];

/// Runs the probe and prints what it found.
pub fn run(args: &ProbeArgs) -> anyhow::Result<i32> {
    if args.duration == 0 {
        anyhow::bail!("--duration must be more than 0");
    }
    if args.threshold == 0 {
        anyhow::bail!("--threshold must be more than 0 (every loop would be a gap)");
    }
    let options = ProbeOptions {
        cpu: args.cpu,
        duration_ns: args.duration,
        threshold_ns: args.threshold,
        max_gaps: 1 << 20,
    };
    let outcome = probe::probe(&options)?;
    let mut out = Vec::new();
    if args.json {
        write_json(&mut out, &outcome, args.cpu);
    } else {
        write_human(&mut out, &outcome, args)?;
    }
    std::io::stdout().lock().write_all(&out)?;
    if let Some(path) = &args.plot {
        std::fs::write(path, svg::render(&outcome, args.cpu, args.threshold))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(0)
}

/// (gaps over 10 µs, of which attributed).
fn over_10us(outcome: &ProbeOutcome) -> (usize, usize) {
    let long: Vec<_> = outcome
        .explained
        .iter()
        .filter(|e| e.gap.duration_ns() > 10_000)
        .collect();
    let attributed = long.iter().filter(|e| !e.causes.is_empty()).count();
    (long.len(), attributed)
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

fn write_human(out: &mut Vec<u8>, outcome: &ProbeOutcome, args: &ProbeArgs) -> std::io::Result<()> {
    let m = &outcome.measured;
    let h = &m.histogram;
    let (min, mean, max) = h.min_mean_max();
    writeln!(
        out,
        "isolate probe: CPU {} for {:.2} s, {} loops, threshold {:.1} us; tick: {}",
        args.cpu,
        (m.end_ns - m.start_ns) as f64 / 1e9,
        h.total(),
        args.threshold as f64 / 1e3,
        outcome.tick_reason
    )?;
    for (i, count) in h.oslat_buckets().iter().enumerate() {
        writeln!(out, "    {:03} (us): {count}", i + 1)?;
    }
    writeln!(out, "    Minimum:   {:.3} us", min as f64 / 1e3)?;
    writeln!(out, "    Average:   {:.3} us", mean / 1e3)?;
    writeln!(out, "    Maximum:   {:.3} us", max as f64 / 1e3)?;
    writeln!(out, "    Max-Min:   {:.3} us", (max - min) as f64 / 1e3)?;
    write!(out, "    Percentiles:")?;
    for (name, p) in PERCENTILES {
        write!(out, " {name} {:.1} us", h.percentile(p) as f64 / 1e3)?;
    }
    writeln!(out)?;
    let gaps = outcome.explained.len();
    let attributed = outcome.attributed();
    let (long, long_attributed) = over_10us(outcome);
    writeln!(
        out,
        "gaps over {:.1} us: {gaps}, {attributed} attributed ({:.1}%); over 10 us: {long}, {long_attributed} attributed ({:.1}%); longest {:.1} us",
        args.threshold as f64 / 1e3,
        percent(attributed, gaps),
        percent(long_attributed, long),
        m.gaps.iter().map(|g| g.duration_ns()).max().unwrap_or(0) as f64 / 1e3
    )?;
    match outcome.steal_ns {
        Some(steal) => writeln!(out, "steal time on CPU {} during the probe: {:.1} ms (unexplained gaps may be the hypervisor)", args.cpu, steal as f64 / 1e6)?,
        None => writeln!(out, "steal time: not reported by this kernel")?,
    }
    if m.gaps_dropped > 0 {
        writeln!(
            out,
            "warning: {} gaps over the threshold were counted but not kept",
            m.gaps_dropped
        )?;
    }
    if outcome.lost > 0 {
        writeln!(
            out,
            "warning: {} trace records lost (ring full): some gaps may look unexplained",
            outcome.lost
        )?;
    }
    writeln!(out, "gaps by main cause (total and max are gap durations):")?;
    outcome.summary.write_table(out, 30)
}

fn write_json(out: &mut Vec<u8>, outcome: &ProbeOutcome, cpu: u32) {
    for e in &outcome.explained {
        let (class, detail) = e.main(&outcome.interruptions);
        let _ = write!(
            out,
            "{{\"time_ns\":{},\"duration_ns\":{},\"class\":",
            e.gap.start_ns,
            e.gap.duration_ns()
        );
        push_str(out, class.name().as_bytes());
        out.extend_from_slice(b",\"detail\":");
        push_str(out, detail.as_bytes());
        out.extend_from_slice(b",\"causes\":[");
        for (k, &index) in e.causes.iter().enumerate() {
            let i = &outcome.interruptions[index];
            if k > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"class\":");
            push_str(out, i.class.name().as_bytes());
            out.extend_from_slice(b",\"detail\":");
            push_str(out, i.detail.as_bytes());
            let _ = write!(out, ",\"duration_ns\":{}}}", i.duration_ns());
        }
        out.extend_from_slice(b"]}\n");
    }
    let m = &outcome.measured;
    let h = &m.histogram;
    let (long, long_attributed) = over_10us(outcome);
    let percentiles: Vec<String> = PERCENTILES
        .iter()
        .map(|(name, p)| format!("\"{name}\":{}", h.percentile(*p)))
        .collect();
    let histogram: Vec<String> = h.oslat_buckets().iter().map(u64::to_string).collect();
    let extra = [
        ("gaps", outcome.explained.len().to_string()),
        ("attributed", outcome.attributed().to_string()),
        (
            "max_gap_ns",
            m.gaps
                .iter()
                .map(|g| g.duration_ns())
                .max()
                .unwrap_or(0)
                .to_string(),
        ),
        ("gaps_over_10us", long.to_string()),
        ("attributed_over_10us", long_attributed.to_string()),
        ("loops", h.total().to_string()),
        (
            "steal_ns",
            outcome.steal_ns.map_or("null".into(), |s| s.to_string()),
        ),
        ("lost", outcome.lost.to_string()),
        ("percentiles_ns", format!("{{{}}}", percentiles.join(","))),
        ("histogram_us", format!("[{}]", histogram.join(","))),
    ];
    outcome
        .summary
        .write_json(out, cpu, m.end_ns - m.start_ns, &extra);
}
