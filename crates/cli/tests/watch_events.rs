//! `taskwatch watch --json` against the real kernel: every event kind, created with a
//! known outcome by a C workload, must be reported exactly for the workload's pids.

mod common;

use std::process::Command;

use common::{about, one, Watch};
use serde_json::Value;

#[test]
fn every_event_kind_is_reported_exactly() {
    if !common::require_root("every_event_kind_is_reported_exactly") {
        return;
    }
    let dir = common::scratch("kinds");
    let workload = common::compile("lifecycle.c", &dir);
    // A short-lived binary under a unique name, so its exec path is unambiguous.
    let short = dir.join("tw-short-binary");
    std::fs::copy("/bin/true", &short).unwrap();

    let watch = Watch::start(&["--json"]);
    let out = Command::new(&workload)
        .arg(&short)
        .output()
        .expect("running the workload");
    assert!(out.status.success(), "workload failed: {out:?}");
    let pids: Value = serde_json::from_slice(&out.stdout).expect("workload JSON");
    let pid = |k: &str| pids[k].as_u64().unwrap();
    let killed = pid("killed");
    watch.wait_until(
        |evs| {
            evs.iter()
                .any(|e| e["event"] == "exit" && e["pid"] == killed)
        },
        "the last exit",
    );
    let (status, events, stderr) = watch.stop();
    assert!(status.success(), "taskwatch exited {status:?}: {stderr}");

    let me = pid("self");
    for e in &events {
        for key in ["event", "ts_ns", "time", "cpu"] {
            assert!(e.get(key).is_some(), "{key} missing in {e}");
        }
    }
    // Each child: one fork from the workload, then its events, then one exit.
    for k in [
        "sid",
        "id",
        "comm",
        "thread_process",
        "exec",
        "traced",
        "segv",
        "code",
        "killed",
    ] {
        let child = pid(k);
        let fork = one(&events, child, "fork");
        assert_eq!(
            (fork["parent_tgid"].as_u64(), fork["child_pid"].as_u64()),
            (Some(me), Some(child)),
            "{fork}"
        );
        assert_eq!(fork["thread"], false);
        let mine = about(&events, child);
        assert_eq!(
            mine.first().unwrap()["event"],
            "fork",
            "first event of {k}: {mine:?}"
        );
        assert_eq!(
            mine.last().unwrap()["event"],
            "exit",
            "last event of {k}: {mine:?}"
        );
        let ts: Vec<u64> = mine.iter().map(|e| e["ts_ns"].as_u64().unwrap()).collect();
        assert!(
            ts.windows(2).all(|w| w[0] <= w[1]),
            "{k} events out of order: {ts:?}"
        );
    }

    one(&events, pid("sid"), "sid");
    assert_eq!(one(&events, pid("sid"), "exit")["exit_code"], 0);

    assert_eq!(
        pid("id_status"),
        0,
        "setresgid/setresuid failed in the workload"
    );
    let gid = one(&events, pid("id"), "gid");
    assert_eq!(
        (gid["rgid"].as_u64(), gid["egid"].as_u64()),
        (Some(1234), Some(1234))
    );
    let uid = one(&events, pid("id"), "uid");
    assert_eq!(
        (uid["ruid"].as_u64(), uid["euid"].as_u64()),
        (Some(4321), Some(4321))
    );

    assert_eq!(one(&events, pid("comm"), "comm")["comm"], "tw-renamed");
    assert_eq!(one(&events, pid("comm"), "exit")["comm"], "tw-renamed");

    let tid = pid("thread");
    let thread_fork = one(&events, tid, "fork");
    assert_eq!(thread_fork["thread"], true);
    assert_eq!(
        thread_fork["child_tgid"].as_u64(),
        Some(pid("thread_process"))
    );
    let thread_exit = one(&events, tid, "exit");
    assert_eq!(
        (
            thread_exit["thread"].clone(),
            thread_exit["exit_code"].clone()
        ),
        (Value::Bool(true), Value::from(0))
    );
    assert_eq!(one(&events, pid("thread_process"), "exit")["thread"], false);

    let exec = one(&events, pid("exec"), "exec");
    assert_eq!(exec["exe"], short.to_str().unwrap(), "{exec}");
    assert_eq!(exec["comm"], "tw-short-binary");
    if !exec["argv"].is_null() {
        assert_eq!(exec["argv"], serde_json::json!(["tw-short", "--flag"]));
    }
    assert_eq!(one(&events, pid("exec"), "exit")["exit_code"], 0);

    let traced = pid("traced");
    let ptrace: Vec<&Value> = about(&events, traced)
        .into_iter()
        .filter(|e| e["event"] == "ptrace")
        .collect();
    assert_eq!(ptrace.len(), 2, "attach and detach: {ptrace:?}");
    assert_eq!(ptrace[0]["tracer_tgid"].as_u64(), Some(me));
    assert_eq!(ptrace[1]["tracer_pid"].as_u64(), Some(0));
    let traced_exit = one(&events, traced, "exit");
    assert_eq!(
        (
            traced_exit["signal"].as_u64(),
            traced_exit["exit_code"].clone()
        ),
        (Some(9), Value::Null)
    );

    let segv = pid("segv");
    assert_eq!(
        one(&events, segv, "coredump")["parent_tgid"].as_u64(),
        Some(me)
    );
    let segv_exit = one(&events, segv, "exit");
    assert_eq!(segv_exit["signal"].as_u64(), Some(11));
    assert_eq!(
        segv_exit["core_dumped"], pids["segv_core"],
        "core flag must match what wait() saw"
    );

    let code_exit = one(&events, pid("code"), "exit");
    assert_eq!(
        (code_exit["exit_code"].as_u64(), code_exit["signal"].clone()),
        (Some(7), Value::Null)
    );
    assert!(code_exit["lifetime_ns"].as_u64().is_some());

    let kill_exit = one(&events, killed, "exit");
    assert_eq!(
        (
            kill_exit["signal"].as_u64(),
            kill_exit["core_dumped"].clone()
        ),
        (Some(9), Value::Bool(false))
    );
}
