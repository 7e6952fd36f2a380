//! `taskwatch exits` against the real kernel: a workload with known costs gets a record
//! whose fields match, bad cpulists are refused before anything is sent, and `stat`
//! queries a live task.

mod common;

use std::process::Command;

use common::Watch;
use serde_json::Value;

#[test]
fn a_known_workload_gets_a_record_that_matches() {
    if !common::require_root("a_known_workload_gets_a_record_that_matches") {
        return;
    }
    let dir = common::scratch("exits");
    let workload = common::compile("exits_workload.c", &dir);
    let watch = Watch::start_command("exits", &["--json"]);
    let out_file = dir.join("written");
    let mut child = Command::new(&workload).arg(&out_file).spawn().unwrap();
    let pid = child.id() as u64;
    assert_eq!(child.wait().unwrap().code(), Some(7));
    watch.wait_until(
        |lines| lines.iter().any(|l| l["pid"] == pid),
        "the workload's exit record",
    );
    let (_, lines, stderr) = watch.stop();
    let line: &Value = lines.iter().find(|l| l["pid"] == pid).unwrap();
    assert_eq!(line["exit_code"], 7, "{line}");
    assert_eq!(line["signal"], Value::Null);
    assert_eq!(line["tgid"], pid);
    assert_eq!(line["ppid"], std::process::id() as u64);
    assert_eq!(line["comm"], "exits_workload");
    let cpu_us = line["utime_us"].as_u64().unwrap() + line["stime_us"].as_u64().unwrap();
    // It stops once its own CPU clock passes 200 ms; the tick-based split may round.
    assert!(
        (190_000..1_000_000).contains(&cpu_us),
        "cpu {cpu_us} us: {line}"
    );
    let rss = line["hiwater_rss_kb"].as_u64().unwrap();
    assert!(
        (64 * 1024..96 * 1024).contains(&rss),
        "rss {rss} KiB: {line}"
    );
    let written = line["write_bytes"].as_u64().unwrap();
    assert!(
        (4 << 20..5 << 20).contains(&written),
        "wrote {written}: {line}"
    );
    assert!(line["write_char"].as_u64().unwrap() >= 4 << 20, "{line}");
    // utime and stime are reported in whole ticks (4 ms at HZ=250, seen here), so their
    // sum may pass the elapsed time by up to a tick each; allow 10 ms per field (HZ=100).
    assert!(
        line["elapsed_us"].as_u64().unwrap() + 20_000 >= cpu_us,
        "{line}"
    );
    assert!(
        line["minflt"].as_u64().unwrap() >= 16384,
        "64 MiB touched: {line}"
    );
    assert!(line["delays"]["cpu"]["count"].as_u64().is_some(), "{line}");
    assert!(line["version"].as_u64().unwrap() >= 8, "{line}");
    assert!(!stderr.contains("error"), "{stderr}");
}

fn refused(cpus: &str) -> String {
    let out = Command::new(common::binary())
        .args(["exits", "--cpus", cpus])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "--cpus {cpus:?} must be refused"
    );
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn bad_cpulists_are_refused_with_what_is_wrong() {
    // Every check runs before a socket is opened, root or not.
    let nr = std::fs::read_to_string("/sys/devices/system/cpu/possible").unwrap();
    let last: u32 = nr
        .trim()
        .rsplit(['-', ','])
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let beyond = (last + 1).to_string();
    assert!(
        refused(&beyond).contains("out of range"),
        "{}",
        refused(&beyond)
    );
    assert!(refused("").contains("empty"), "{}", refused(""));
    let garbage = refused("0-x");
    assert!(
        garbage.contains("garbage") || garbage.contains("expected"),
        "{garbage}"
    );
    let long = vec!["0"; 2000].join(",");
    let too_long = refused(&long);
    assert!(too_long.contains("bytes"), "{too_long}");
}

#[test]
fn stat_reports_a_live_task_and_refuses_a_missing_one() {
    if !common::require_root("stat_reports_a_live_task_and_refuses_a_missing_one") {
        return;
    }
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let out = Command::new(common::binary())
        .args(["stat", &sleeper.id().to_string(), "--json"])
        .output()
        .unwrap();
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["pid"], sleeper.id() as u64);
    assert_eq!(v["comm"], "sleep");
    assert_eq!(v["exit_code"], Value::Null, "still running: {v}");
    let missing = Command::new(common::binary())
        .args(["stat", "4194303"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such task"));
}
