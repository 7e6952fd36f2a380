//! `watch --connect` prints what `watch` prints: the same JSON lines for the same events
//! (the wall-clock `time` aside: each process converts ts_ns with its own clock reading).

mod daemon_support;

use std::process::{Command, Stdio};

use daemon_support::*;
use serde_json::Value;

type Lines = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

fn start_watch(extra: &[&str]) -> (std::process::Child, Lines, Lines) {
    let mut child = Command::new(binary())
        .args(["watch", "--json", "-e", "exec,exit", "--comm", "sleep"])
        .args(extra)
        .env("TASKWATCH_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = collect(child.stdout.take().unwrap());
    let err = collect(child.stderr.take().unwrap());
    (child, out, err)
}

#[test]
fn connect_mode_prints_the_direct_mode_lines() {
    if !require_root("connect_mode_prints_the_direct_mode_lines") {
        return;
    }
    let dir = scratch("same-output");
    let daemon = Daemon::start(&dir.join("s.sock"), &[]);
    let (mut direct, direct_out, direct_err) = start_watch(&[]);
    let socket = daemon.socket.to_str().unwrap().to_owned();
    let (mut remote, remote_out, remote_err) = start_watch(&["--connect", &socket]);
    wait_for("direct mode listening", || {
        direct_err
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("watching"))
    });
    wait_for("connect mode registered", || {
        remote_err
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("watching through the daemon"))
    });
    // sleep lives long enough for both to read its argv from /proc.
    let mut s = Command::new("sleep").arg("0.2").spawn().unwrap();
    let pid = s.id();
    s.wait().unwrap();
    let about = |lines: &std::sync::Mutex<Vec<String>>| -> Vec<Value> {
        lines
            .lock()
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|v| v["pid"] == pid)
            .map(|mut v| {
                v.as_object_mut().unwrap().remove("time");
                v
            })
            .collect()
    };
    wait_for("both exits", || {
        saw_exit(&about(&direct_out), pid) && saw_exit(&about(&remote_out), pid)
    });
    let (d, r) = (about(&direct_out), about(&remote_out));
    assert_eq!(d.len(), 2, "{d:?}");
    assert_eq!(d, r);
    for c in [&mut direct, &mut remote] {
        c.kill().unwrap();
        c.wait().unwrap();
    }
}
