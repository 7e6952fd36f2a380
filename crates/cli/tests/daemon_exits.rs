//! `exits --connect` prints what `exits` prints: the daemon puts each exit's taskstats
//! records on the event, and a workload's line has the same fields and values both ways.

mod daemon_support;

use std::process::Command;

use common::Watch;
use daemon_support::{common, Daemon};
use serde_json::Value;

fn line_of(watch: &Watch, pid: u64) -> Value {
    watch.wait_until(
        |lines| lines.iter().any(|l| l["pid"] == pid),
        "the workload's exit line",
    );
    watch
        .events()
        .into_iter()
        .find(|l| l["pid"] == pid)
        .unwrap()
}

#[test]
fn connect_mode_prints_the_direct_mode_exit_line() {
    if !common::require_root("connect_mode_prints_the_direct_mode_exit_line") {
        return;
    }
    let dir = common::scratch("daemon-exits");
    let workload = common::compile("exits_workload.c", &dir);
    let daemon = Daemon::start(&dir.join("s.sock"), &[]);
    let socket = daemon.socket.to_str().unwrap().to_owned();
    let direct = Watch::start_command("exits", &["--json", "--comm", "exits_workload"]);
    let remote = Watch::start_command(
        "exits",
        &["--json", "--comm", "exits_workload", "--connect", &socket],
    );
    let mut child = Command::new(&workload)
        .arg(dir.join("written"))
        .spawn()
        .unwrap();
    let pid = u64::from(child.id());
    assert_eq!(child.wait().unwrap().code(), Some(7));
    let (d, r) = (line_of(&direct, pid), line_of(&remote, pid));
    assert_eq!(d["exit_code"], 7, "{d}");
    assert!(d["utime_us"].as_u64().unwrap() > 0, "{d}");
    assert!(d["write_bytes"].as_u64().unwrap() >= 4 << 20, "{d}");
    assert_eq!(d, r, "direct and connect lines differ");
    let (_, _, stderr) = remote.stop();
    assert!(!stderr.contains("error"), "{stderr}");
    direct.stop();
}

#[test]
fn thread_lines_and_cpus_go_through_the_daemon_too() {
    if !common::require_root("thread_lines_and_cpus_go_through_the_daemon_too") {
        return;
    }
    let dir = common::scratch("daemon-exits-threads");
    let daemon = Daemon::start(&dir.join("s.sock"), &[]);
    let socket = daemon.socket.to_str().unwrap().to_owned();
    // Only CPU 0's exits: a task pinned to CPU 0 is there, whatever else runs.
    let remote = Watch::start_command(
        "exits",
        &[
            "--json",
            "--threads",
            "--comm",
            "true",
            "--cpus",
            "0",
            "--connect",
            &socket,
        ],
    );
    let pid = u64::from(daemon_support::run_pinned(0, "true"));
    let line = line_of(&remote, pid);
    assert_eq!(line["cpu"], 0, "{line}");
    assert_eq!(line["exit_code"], 0, "{line}");
    assert_eq!(line["comm"], "true", "{line}");
    let lines = remote.stop().1;
    assert!(lines.iter().all(|l| l["cpu"] == 0), "{lines:?}");
}
