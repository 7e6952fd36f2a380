//! `taskwatch bench dispatch --json`: every mechanism and watcher count has a row, and
//! dispatch allocates nothing per event, whatever the mechanism.

use std::process::Command;

#[test]
fn bench_rows_exist_and_dispatch_allocates_nothing() {
    let out = Command::new(env!("CARGO_BIN_EXE_taskwatch"))
        .args([
            "bench", "dispatch", "--json", "--events", "3000", "--runs", "2",
        ])
        .output()
        .expect("run taskwatch");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect();
    let mut seen = Vec::new();
    for r in &rows {
        let mechanism = r["mechanism"].as_str().expect("mechanism");
        let watchers = r["watchers"].as_u64().expect("watchers");
        let ns = r["ns_per_event"].as_f64().expect("ns_per_event");
        assert!(ns > 0.0, "{r}");
        assert_eq!(r["allocations_per_event"], 0, "{r}");
        seen.push((mechanism.to_string(), watchers));
    }
    let mut expected = Vec::new();
    for m in ["static", "dynamic", "locked"] {
        for n in [0, 1, 8, 64] {
            expected.push((m.to_string(), n));
        }
    }
    assert_eq!(seen, expected);
}

#[test]
fn bench_rejects_zero_runs() {
    let out = Command::new(env!("CARGO_BIN_EXE_taskwatch"))
        .args(["bench", "dispatch", "--runs", "0"])
        .output()
        .expect("run taskwatch");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--runs"));
}
