//! A daemon restart: `watch --connect` is told the daemon is stopping, reconnects to the
//! new one, prints a `gap` line (restarted, since its last event) and goes on.

mod daemon_support;

use std::process::{Command, Stdio};

use daemon_support::*;
use serde_json::Value;

#[test]
fn a_client_reconnects_after_a_restart_and_reports_the_gap() {
    if !require_root("a_client_reconnects_after_a_restart_and_reports_the_gap") {
        return;
    }
    let dir = scratch("restart");
    let socket = dir.join("s.sock");
    let first = Daemon::start(&socket, &[]);
    let mut client = Command::new(binary())
        .args(["watch", "--json", "-e", "exit", "--connect"])
        .arg(&socket)
        .env("TASKWATCH_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = collect(client.stdout.take().unwrap());
    let events = || -> Vec<Value> {
        lines
            .lock()
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    wait_for("the client registered", || {
        first.metric("taskwatch_registrations") == 1.0
    });
    let before = run_pinned(0, "/bin/true");
    wait_for("the first marker", || saw_exit(&events(), before));

    let (status, stderr) = first.terminate();
    assert!(status.success(), "{stderr}");
    let second = Daemon::start(&socket, &[]);
    wait_for("the gap line", || {
        events().iter().any(|e| e["event"] == "gap")
    });
    let after = run_pinned(1, "/bin/true");
    wait_for("the second marker", || saw_exit(&events(), after));

    let all = events();
    let gap_at = all.iter().position(|e| e["event"] == "gap").unwrap();
    let gap = &all[gap_at];
    assert_eq!(gap["restarted"], true, "{gap}");
    assert_eq!(gap["reason"], "daemon stopping", "{gap}");
    assert_eq!(
        gap["since_ts_ns"],
        all[gap_at - 1]["ts_ns"],
        "the gap starts at the last event"
    );
    assert!(gap["ts_ns"].as_u64() > gap["since_ts_ns"].as_u64());
    let before_at = all
        .iter()
        .position(|e| e["event"] == "exit" && e["pid"] == before)
        .unwrap();
    let after_at = all
        .iter()
        .position(|e| e["event"] == "exit" && e["pid"] == after)
        .unwrap();
    assert!(before_at < gap_at && gap_at < after_at);
    assert_eq!(all.iter().filter(|e| e["event"] == "gap").count(), 1);
    client.kill().unwrap();
    client.wait().unwrap();
    drop(second);
}
