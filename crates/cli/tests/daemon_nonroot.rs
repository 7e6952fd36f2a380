//! A subscriber that is not root (`watch --connect` run as nobody) receives events only
//! about tasks whose real or effective uid is its own; root's subscriber sees both.

mod daemon_support;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use daemon_support::*;
use serde_json::Value;

const NOBODY: u32 = 65534;

#[test]
fn a_non_root_subscriber_sees_only_its_own_tasks() {
    if !require_root("a_non_root_subscriber_sees_only_its_own_tasks") {
        return;
    }
    let dir = scratch("nonroot");
    // The socket is mode 0660 with group nogroup, so nobody may connect.
    let daemon = Daemon::start(&dir.join("s.sock"), &["--group", &NOBODY.to_string()]);
    let mut root_view = RawClient::connect(&daemon.socket);
    let reply = root_view.request(
        1,
        "{\"op\":\"register\",\"cpus\":\"0-1\",\"events\":[\"exec\",\"exit\"]}",
    );
    assert_eq!(reply["reply"], "registered", "{reply}");

    let mut watcher = Command::new(binary())
        .args(["watch", "--json", "-e", "exec,exit", "--connect"])
        .arg(&daemon.socket)
        .uid(NOBODY)
        .gid(NOBODY)
        .env("TASKWATCH_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = collect(watcher.stdout.take().unwrap());
    let stderr = collect(watcher.stderr.take().unwrap());
    wait_for("the nobody subscriber registered", || {
        stderr
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("watching through the daemon"))
    });
    assert!(stderr
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("sees=\"own\"")));

    let root_task = Command::new("/bin/true").spawn().unwrap();
    let root_pid = root_task.id();
    root_task.wait_with_output().unwrap();
    let mut nobody_task = Command::new("/bin/true")
        .uid(NOBODY)
        .gid(NOBODY)
        .spawn()
        .unwrap();
    let nobody_pid = nobody_task.id();
    assert!(nobody_task.wait().unwrap().success());

    let events = |lines: &std::sync::Mutex<Vec<String>>| -> Vec<Value> {
        lines
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    };
    wait_for("nobody's task exit at the nobody subscriber", || {
        saw_exit(&events(&lines), nobody_pid)
    });
    wait_for("both exits at root's subscriber", || {
        let e = root_view.events();
        saw_exit(&e, root_pid) && saw_exit(&e, nobody_pid)
    });
    let seen = events(&lines);
    assert!(
        seen.iter()
            .any(|e| e["event"] == "exec" && e["pid"] == nobody_pid),
        "nobody sees its own exec"
    );
    assert!(
        !seen.iter().any(|e| e["pid"] == root_pid),
        "nobody must not see root's task {root_pid}"
    );
    watcher.kill().unwrap();
    watcher.wait().unwrap();
}
