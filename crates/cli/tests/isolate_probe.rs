//! `taskwatch isolate probe` against the real kernel: the JSON summary follows the
//! contract and agrees with the gap lines before it, and the SVG is written with both
//! panels.

mod common;

use std::process::Command;

use serde_json::Value;

#[test]
fn probe_summary_agrees_with_its_gaps_and_the_svg_exists() {
    if !common::require_root("probe_summary_agrees_with_its_gaps_and_the_svg_exists") {
        return;
    }
    let dir = common::scratch("isolate-probe");
    let svg = dir.join("probe.svg");
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap();
    let cpu = online.trim().rsplit([',', '-']).next().unwrap().to_owned();
    let out = Command::new(common::binary())
        .args([
            "isolate",
            "probe",
            "--cpu",
            &cpu,
            "--duration",
            "1s",
            "--json",
            "--plot",
        ])
        .arg(&svg)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (summary, gaps) = lines.split_last().expect("a summary line");
    assert_eq!(summary["summary"], true);
    assert_eq!(summary["cpu"].to_string(), cpu);
    assert_eq!(summary["gaps"].as_u64().unwrap(), gaps.len() as u64);
    let attributed = gaps
        .iter()
        .filter(|g| !g["causes"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(summary["attributed"].as_u64().unwrap(), attributed as u64);
    let longest = gaps
        .iter()
        .map(|g| g["duration_ns"].as_u64().unwrap())
        .max();
    assert_eq!(summary["max_gap_ns"].as_u64(), Some(longest.unwrap_or(0)));
    // Every gap is over the 1 µs default threshold, and the causes count the gaps.
    assert!(gaps
        .iter()
        .all(|g| g["duration_ns"].as_u64().unwrap() > 1_000));
    let counted: u64 = summary["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, gaps.len() as u64);
    let classes = [
        "tick",
        "timer",
        "irq",
        "softirq",
        "ipi",
        "workqueue",
        "task",
        "migration",
        "syscall",
        "page_fault",
        "nmi",
        "unexplained",
    ];
    for c in summary["causes"].as_array().unwrap() {
        assert!(classes.contains(&c["class"].as_str().unwrap()), "{c}");
    }
    // oslat's 32 buckets hold every loop iteration.
    let histogram: u64 = summary["histogram_us"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap())
        .sum();
    assert_eq!(histogram, summary["loops"].as_u64().unwrap());
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(
        picture.starts_with("<svg"),
        "{}",
        &picture[..picture.len().min(200)]
    );
    assert!(picture.trim_end().ends_with("</svg>"));
    assert!(picture.contains("gaps over time"));
    assert!(picture.contains("loop iterations per 1 us bucket"));
    assert_eq!(
        picture.matches("<circle").count() - legend_entries(&picture),
        gaps.len()
    );
}

/// Legend dots are circles too: one per class present.
fn legend_entries(svg: &str) -> usize {
    svg.lines()
        .filter(|l| l.starts_with("<circle") && l.contains("r=\"5\""))
        .count()
}

#[test]
fn bad_probe_flags_are_refused() {
    for args in [
        &["--cpu", "1", "--duration", "soon"][..],
        &["--cpu", "1", "--duration", "1s", "--threshold", "0"],
        &["--cpu", "1"],
    ] {
        let out = Command::new(common::binary())
            .args(["isolate", "probe"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
