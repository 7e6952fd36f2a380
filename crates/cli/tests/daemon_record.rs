//! `daemon --record`: the daemon's one kernel reader feeds its subscribers and the history
//! database; after SIGTERM a child's lifetime, exit code included, is in the history.

mod daemon_support;

use std::process::Command;

use daemon_support::*;
use serde_json::Value;

fn history(db: &std::path::Path, pid: u32) -> Vec<Value> {
    let out = Command::new(binary())
        .args(["history", "--json", "--pid", &pid.to_string(), "--db"])
        .arg(db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_child_exit_reaches_subscribers_and_the_history() {
    if !require_root("a_child_exit_reaches_subscribers_and_the_history") {
        return;
    }
    let dir = scratch("record");
    let db = dir.join("history.db");
    let db_arg = db.to_str().unwrap().to_owned();
    let daemon = Daemon::start(&dir.join("s.sock"), &["--record", "--db", &db_arg]);
    let mut sub = RawClient::connect(&daemon.socket);
    let reply = sub.request(
        1,
        "{\"op\":\"register\",\"cpus\":\"0-1\",\"events\":[\"exit\"]}",
    );
    assert_eq!(reply["reply"], "registered", "{reply}");
    let mut child = Command::new("sh").args(["-c", "exit 5"]).spawn().unwrap();
    let pid = child.id();
    assert_eq!(child.wait().unwrap().code(), Some(5));
    let exit = sub.wait_line("the child's exit", |v| {
        v["event"] == "exit" && v["pid"] == pid
    });
    assert_eq!(exit["exit_code"], 5, "{exit}");
    wait_for("the recorder's counters in the metrics", || {
        daemon
            .metric_if_present("taskwatch_history_recorded_total{kind=\"process\"}")
            .is_some_and(|n| n >= 1.0)
    });
    assert_eq!(
        daemon.metric("taskwatch_history_lost_total{cause=\"writer_queue\"}"),
        0.0
    );
    let (status, stderr) = daemon.terminate();
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("recording task lifetimes"), "{stderr}");
    assert!(stderr.contains("lifetimes committed to"), "{stderr}");
    let lives = history(&db, pid);
    assert!(
        lives
            .iter()
            .any(|l| l["exit_code"] == 5 && l["comm"] == "sh"),
        "{lives:?}"
    );
}

#[test]
fn db_without_record_is_refused() {
    let out = Command::new(binary())
        .args([
            "daemon",
            "--socket",
            "/nonexistent/s.sock",
            "--db",
            "/tmp/x.db",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--db needs --record"), "{stderr}");
}
