//! The probe as a picture: gaps over time (log duration), coloured by their main cause,
//! with a legend, above the oslat-style histogram of every loop iteration (log counts).

use std::fmt::Write;

use super::ProbeOutcome;
use crate::attribution::Class;

const WIDTH: f64 = 1000.0;
const HEIGHT: f64 = 660.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 230.0;
const TIMELINE_TOP: f64 = 50.0;
const TIMELINE_HEIGHT: f64 = 300.0;
const HISTOGRAM_TOP: f64 = 420.0;
const HISTOGRAM_HEIGHT: f64 = 190.0;

fn colour(class: Class) -> &'static str {
    match class {
        Class::Tick => "#1f77b4",
        Class::Timer => "#17becf",
        Class::Irq => "#d62728",
        Class::Softirq => "#ff7f0e",
        Class::Ipi => "#9467bd",
        Class::Workqueue => "#8c564b",
        Class::Task => "#e377c2",
        Class::Migration => "#bcbd22",
        Class::Syscall => "#2ca02c",
        Class::PageFault => "#98df8a",
        Class::Nmi => "#000000",
        Class::Unexplained => "#7f7f7f",
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The SVG document for `outcome` on `cpu` with gaps over `threshold_ns`.
pub fn render(outcome: &ProbeOutcome, cpu: u32, threshold_ns: u64) -> String {
    let mut s = String::new();
    let plot_width = WIDTH - LEFT - RIGHT;
    let m = &outcome.measured;
    let span = (m.end_ns - m.start_ns).max(1) as f64;
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="24" font-size="15" font-weight="bold">CPU {cpu}: {} gaps over {:.1} us in {:.2} s, {} attributed to a traced cause</text>"#,
        outcome.explained.len(),
        threshold_ns as f64 / 1e3,
        span / 1e9,
        outcome.attributed()
    );

    // Timeline: y is log10 of the gap in µs, from the threshold to the longest gap.
    let min_us = (threshold_ns as f64 / 1e3).max(0.1);
    let max_gap = m
        .gaps
        .iter()
        .map(|g| g.duration_ns())
        .max()
        .unwrap_or(threshold_ns);
    let max_us = (max_gap as f64 / 1e3).max(min_us * 10.0);
    let (lo, hi) = (min_us.log10().floor(), max_us.log10().ceil());
    let y_of = |us: f64| {
        TIMELINE_TOP + TIMELINE_HEIGHT - (us.max(min_us).log10() - lo) / (hi - lo) * TIMELINE_HEIGHT
    };
    axes(&mut s, TIMELINE_TOP, TIMELINE_HEIGHT, plot_width);
    let mut decade = lo;
    while decade <= hi {
        let y = y_of(10f64.powf(decade));
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{} us</text>"##,
            LEFT + plot_width,
            LEFT - 6.0,
            y + 4.0,
            10f64.powf(decade)
        );
        decade += 1.0;
    }
    for tick in 0..=5 {
        let x = LEFT + plot_width * f64::from(tick) / 5.0;
        let _ = writeln!(
            s,
            r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{:.2} s</text>"#,
            TIMELINE_TOP + TIMELINE_HEIGHT + 16.0,
            span / 1e9 * f64::from(tick) / 5.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="{}" font-weight="bold">gaps over time (log duration), coloured by main cause</text>"#,
        TIMELINE_TOP - 6.0
    );
    let mut counts: Vec<(Class, usize)> = Vec::new();
    for e in &outcome.explained {
        let (class, detail) = e.main(&outcome.interruptions);
        match counts.iter_mut().find(|(c, _)| *c == class) {
            Some((_, n)) => *n += 1,
            None => counts.push((class, 1)),
        }
        let x = LEFT + (e.gap.start_ns - m.start_ns) as f64 / span * plot_width;
        let us = e.gap.duration_ns() as f64 / 1e3;
        let _ = writeln!(
            s,
            r#"<circle cx="{x:.1}" cy="{:.1}" r="3" fill="{}" fill-opacity="0.8"><title>{:.1} us: {}</title></circle>"#,
            y_of(us),
            colour(class),
            us,
            escape(detail)
        );
    }
    counts.sort_by_key(|&(c, _)| c);
    let legend_x = LEFT + plot_width + 20.0;
    for (i, (class, n)) in counts.iter().enumerate() {
        let y = TIMELINE_TOP + 10.0 + i as f64 * 18.0;
        let _ = writeln!(
            s,
            r#"<circle cx="{legend_x}" cy="{y}" r="5" fill="{}"/><text x="{}" y="{}">{} ({n})</text>"#,
            colour(*class),
            legend_x + 10.0,
            y + 4.0,
            class.name()
        );
    }

    // Histogram of every loop iteration, oslat's 1 µs buckets, log counts.
    let buckets = m.histogram.oslat_buckets();
    let top = buckets.iter().copied().max().unwrap_or(1).max(1) as f64;
    let log_top = (top + 1.0).log10();
    axes(&mut s, HISTOGRAM_TOP, HISTOGRAM_HEIGHT, plot_width);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="{}" font-weight="bold">loop iterations per 1 us bucket (log count; the last bucket holds 32 us and more)</text>"#,
        HISTOGRAM_TOP - 6.0
    );
    let bar = plot_width / buckets.len() as f64;
    for (i, &count) in buckets.iter().enumerate() {
        let h = (count as f64 + 1.0).log10() / log_top * HISTOGRAM_HEIGHT;
        let x = LEFT + i as f64 * bar;
        let _ = writeln!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="#4c72b0"><title>{:03} us: {count}</title></rect>"##,
            x + 1.0,
            HISTOGRAM_TOP + HISTOGRAM_HEIGHT - h,
            bar - 2.0,
            i + 1
        );
        if i % 4 == 0 || i == buckets.len() - 1 {
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                x + bar / 2.0,
                HISTOGRAM_TOP + HISTOGRAM_HEIGHT + 16.0,
                i + 1
            );
        }
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="end">{top} </text><text x="{}" y="{}" text-anchor="end">0 </text>"#,
        LEFT,
        HISTOGRAM_TOP + 4.0,
        LEFT,
        HISTOGRAM_TOP + HISTOGRAM_HEIGHT
    );
    s.push_str("</svg>\n");
    s
}

fn axes(s: &mut String, top: f64, height: f64, width: f64) {
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="{top}" width="{width}" height="{height}" fill="none" stroke="#333"/>"##
    );
}
