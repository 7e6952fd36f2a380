//! `taskwatch record` and `taskwatch history` against the real kernel: a scripted
//! workload's lifetimes come back exactly; SIGKILL mid-storm leaves an intact file with
//! every acknowledged row; reused pids stay apart; retention deletes old history.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::{compile, require_root, scratch, Watch, HANG_GUARD};
use serde_json::Value;
use taskwatch_store::{Lifetime, Store};

fn record(db: &Path, extra: &[&str]) -> Watch {
    let mut args = vec!["--db", db.to_str().unwrap()];
    args.extend_from_slice(extra);
    Watch::start_command("record", &args)
}

fn history_cmd(db: &Path, args: &[&str]) -> Output {
    Command::new(common::binary())
        .arg("history")
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("running taskwatch history")
}

/// `history --json ARGS`, parsed; fails on a non-zero exit.
fn history(db: &Path, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = history_cmd(db, &all);
    assert!(
        out.status.success(),
        "history {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// The tests take turns: one of them sets the next pid the kernel hands out, to everyone.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn turn() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// The one lifetime of `pid` that this test process started with `args`; fails with what
/// was found otherwise (other processes on the machine may have had the pid too).
fn only(db: &Path, pid: u32, args: &[&str]) -> Value {
    let found: Vec<Value> = history(db, &["--pid", &pid.to_string(), "--changes"])
        .into_iter()
        .filter(|l| l["ppid"] == std::process::id() && argv(l)[1..] == *args)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "lifetimes of pid {pid} running {args:?}: {found:?}"
    );
    found.into_iter().next().unwrap()
}

/// Runs a program to completion: its pid, status and the monotonic span from before the
/// fork to after the wait, which must contain its recorded lifetime.
fn run(program: &Path, args: &[&str]) -> (u32, ExitStatus, Duration) {
    let start = Instant::now();
    let mut child = Command::new(program).args(args).spawn().unwrap();
    let pid = child.id();
    let status = child.wait().unwrap();
    (pid, status, start.elapsed())
}

fn stop(w: Watch) -> String {
    let (status, _, stderr) = w.stop();
    assert!(status.success(), "record exited with {status}: {stderr}");
    stderr
}

fn argv(v: &Value) -> Vec<String> {
    serde_json::from_value(v["argv"].clone()).unwrap()
}

fn cpu_us(l: &Value) -> u64 {
    l["utime_us"].as_u64().unwrap() + l["stime_us"].as_u64().unwrap()
}

fn as_ns(d: Duration) -> u64 {
    d.as_nanos() as u64
}

#[test]
fn a_scripted_workload_is_recorded_exactly() {
    if !require_root("a_scripted_workload_is_recorded_exactly") {
        return;
    }
    let _turn = turn();
    let dir = scratch("history-workload");
    let program = compile("lifetimes.c", &dir);
    let exe = std::fs::canonicalize(&program).unwrap();
    let db = dir.join("h.db");
    let w = record(&db, &[]);
    let exit7 = run(&program, &["exit", "7"]);
    let exit0 = run(&program, &["exit", "0"]);
    let killed = run(&program, &["signal", "15"]);
    let changed = run(&program, &["change"]);
    let threads = run(&program, &["threads"]);
    let stderr = stop(w);
    assert!(stderr.contains("lost: 0 kernel events"), "{stderr}");

    for ((pid, status, span), code) in [(exit7, 7), (exit0, 0)] {
        assert_eq!(status.code(), Some(code));
        let l = only(&db, pid, &["exit", &code.to_string()]);
        assert_eq!(l["exit_code"], code, "{l}");
        assert_eq!(l["signal"], Value::Null);
        assert_eq!(l["core_dumped"], false);
        assert_eq!(l["exe"], exe.to_str().unwrap());
        assert_eq!(argv(&l)[0], program.to_str().unwrap());
        assert_eq!(l["comm"], "lifetimes");
        assert_eq!(l["ppid"], std::process::id());
        assert_eq!(l["tgid"], pid);
        assert_eq!(l["uid"], 0);
        let lifetime = l["lifetime_ns"].as_u64().unwrap();
        // It slept 100 ms, and it lived inside the span the test measured around it.
        assert!(lifetime >= 100_000_000, "{l}");
        assert!(
            lifetime <= as_ns(span),
            "lifetime {lifetime} > span {span:?}"
        );
        assert!(l["utime_us"].is_u64() && l["hiwater_rss_kb"].as_u64().unwrap() > 0);
    }

    let (pid, status, _) = killed;
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(15)
    );
    let l = only(&db, pid, &["signal", "15"]);
    assert_eq!(
        (l["exit_code"].clone(), l["signal"].clone()),
        (Value::Null, 15.into())
    );

    let (pid, status, _) = changed;
    assert_eq!(status.code(), Some(3));
    let l = only(&db, pid, &["change"]);
    assert_eq!(l["comm"], "renamed");
    assert_eq!(
        (l["uid"].clone(), l["uid_end"].clone()),
        (0.into(), 65534.into())
    );
    assert_eq!(
        (l["gid"].clone(), l["gid_end"].clone()),
        (0.into(), 65534.into())
    );
    let changes: Vec<(String, Value, Value)> = l["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["old"].clone(),
                c["new"].clone(),
            )
        })
        .collect();
    for expected in [
        ("sid".to_owned(), Value::Null, Value::from(pid)),
        ("comm".to_owned(), "lifetimes".into(), "renamed".into()),
        ("gid".to_owned(), 0.into(), 65534.into()),
        ("egid".to_owned(), 0.into(), 65534.into()),
        ("uid".to_owned(), 0.into(), 65534.into()),
        ("euid".to_owned(), 0.into(), 65534.into()),
    ] {
        assert!(
            changes.contains(&expected),
            "{expected:?} not in {changes:?}"
        );
    }

    let (pid, status, _) = threads;
    assert!(status.success());
    let l = only(&db, pid, &["threads"]);
    assert_eq!(l["is_thread"], false);
    assert!(cpu_us(&l) > 0, "three threads burned 50 ms each: {l}");

    // The readable table shows the same lifetime.
    let out = history_cmd(&db, &["--pid", &exit7.0.to_string()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("START"), "{text}");
    assert!(
        text.contains("exit 7") && text.contains("lifetimes exit 7"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn threads_are_recorded_when_asked() {
    if !require_root("threads_are_recorded_when_asked") {
        return;
    }
    let _turn = turn();
    let dir = scratch("history-threads");
    let program = compile("lifetimes.c", &dir);
    let db = dir.join("h.db");
    let w = record(&db, &["--threads"]);
    let (pid, status, _) = run(&program, &["threads"]);
    assert!(status.success());
    stop(w);
    let rows: Vec<Value> = history(&db, &["--sql", "SELECT * FROM lifetime"])
        .into_iter()
        .filter(|r| r["tgid"] == pid && r["ppid"] == std::process::id())
        .collect();
    let threads: Vec<&Value> = rows.iter().filter(|r| r["is_thread"] == 1).collect();
    let leaders: Vec<&Value> = rows.iter().filter(|r| r["is_thread"] == 0).collect();
    assert_eq!((threads.len(), leaders.len()), (3, 1), "{rows:?}");
    // The process row sums its threads (the kernel's figures are tick-sampled, so there is
    // no exact bound from the 50 ms each burned; the sum is exact).
    let of_threads: u64 = threads.iter().map(|t| cpu_us(t)).sum();
    assert!(of_threads > 0, "{rows:?}");
    assert!(cpu_us(leaders[0]) >= of_threads, "{rows:?}");
    let switches = |r: &Value| r["nvcsw"].as_u64().unwrap() + r["nivcsw"].as_u64().unwrap();
    let threads_switches: u64 = threads.iter().map(|t| switches(t)).sum();
    assert!(switches(leaders[0]) >= threads_switches, "{rows:?}");
    let _ = std::fs::remove_dir_all(dir);
}

/// (pid, start_ns) of every lifetime whose parent is `ppid`.
fn keys(db: &Path, ppid: u32) -> HashSet<(u64, i64)> {
    history(
        db,
        &[
            "--sql",
            &format!("SELECT pid, start_ns FROM lifetime WHERE ppid = {ppid}"),
        ],
    )
    .iter()
    .map(|r| (r["pid"].as_u64().unwrap(), r["start_ns"].as_i64().unwrap()))
    .collect()
}

#[test]
fn sigkill_during_a_storm_keeps_every_acknowledged_row_and_a_sound_file() {
    if !require_root("sigkill_during_a_storm_keeps_every_acknowledged_row_and_a_sound_file") {
        return;
    }
    let _turn = turn();
    let dir = scratch("history-sigkill");
    let program = compile("lifetimes.c", &dir);
    let db = dir.join("h.db");
    let w = record(&db, &[]);
    let mut storm = Command::new(&program)
        .args(["storm", "200000"])
        .spawn()
        .unwrap();
    let storm_pid = storm.id();
    // Wait (hang guard only) until some of the storm is committed, then read what is.
    let start = Instant::now();
    let acknowledged = loop {
        let seen = keys(&db, storm_pid);
        if seen.len() >= 1000 {
            break seen;
        }
        assert!(
            start.elapsed() < HANG_GUARD,
            "nothing committed: {}",
            w.stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    w.signal("KILL");
    let mut child = w.child;
    child.wait().unwrap();
    let _ = storm.kill();
    storm.wait().unwrap();

    let store = Store::open(&db).expect("the file opens after SIGKILL");
    assert_eq!(store.integrity_check().unwrap(), vec!["ok".to_string()]);
    drop(store);
    let after = keys(&db, storm_pid);
    let missing: Vec<_> = acknowledged.difference(&after).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged rows gone",
        missing.len()
    );

    // A restart continues the same file.
    let w = record(&db, &[]);
    let (pid, _, _) = run(&program, &["exit", "5"]);
    stop(w);
    assert_eq!(only(&db, pid, &["exit", "5"])["exit_code"], 5);
    assert!(keys(&db, storm_pid).is_superset(&acknowledged));
    let _ = std::fs::remove_dir_all(dir);
}

/// Forks `program ARGS` as pid `target` (via ns_last_pid), retrying while other processes
/// on the machine take the pid first. None when it never got it.
fn run_as_pid(program: &Path, args: &[&str], target: u32) -> Option<(u32, ExitStatus)> {
    for _ in 0..200 {
        std::fs::write("/proc/sys/kernel/ns_last_pid", (target - 1).to_string()).unwrap();
        let mut child = Command::new(program).args(args).spawn().unwrap();
        let pid = child.id();
        let status = child.wait().unwrap();
        if pid == target {
            return Some((pid, status));
        }
        eprintln!("wanted pid {target}, got {pid}; trying again");
    }
    None
}

#[test]
fn a_reused_pid_keeps_two_lifetimes() {
    if !require_root("a_reused_pid_keeps_two_lifetimes") {
        return;
    }
    let _turn = turn();
    let dir = scratch("history-reuse");
    let program = compile("lifetimes.c", &dir);
    let db = dir.join("h.db");
    let w = record(&db, &[]);
    // Command::spawn forks once per child, so the child gets ns_last_pid + 1.
    let pid_max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let target = (pid_max / 2..pid_max)
        .find(|p| !Path::new(&format!("/proc/{p}")).exists())
        .expect("a free pid");
    let first = run_as_pid(&program, &["exit", "1"], target).expect("got the pid once");
    let second = run_as_pid(&program, &["exit", "2"], target).expect("got the pid again");
    stop(w);
    assert_eq!((first.0, second.0), (target, target));
    // Another process on the machine may have had the pid too: keep our children.
    let found: Vec<Value> = history(&db, &["--pid", &target.to_string()])
        .into_iter()
        .filter(|l| l["ppid"] == std::process::id())
        .collect();
    let codes: Vec<i64> = found
        .iter()
        .map(|l| l["exit_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [1, 2], "two lifetimes, in end order: {found:?}");
    assert!(found[0]["end_time"].as_str() <= found[1]["start_time"].as_str());
    let _ = std::fs::remove_dir_all(dir);
}

fn old_lifetime(pid: u32, days_ago: i64) -> Lifetime {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    let end = now - days_ago * 86_400_000_000_000;
    Lifetime {
        pid,
        tgid: pid,
        ppid: 1,
        start_ns: end - 1_000_000,
        end_ns: end,
        comm: format!("old{days_ago}"),
        exit_code: Some(0),
        ..Lifetime::default()
    }
}

#[test]
fn retention_deletes_history_past_max_age() {
    if !require_root("retention_deletes_history_past_max_age") {
        return;
    }
    let _turn = turn();
    let dir = scratch("history-retention");
    let db = dir.join("h.db");
    let mut store = Store::open(&db).unwrap();
    let seeded: Vec<Lifetime> = (0..50)
        .map(|i| old_lifetime(1000 + i, 3))
        .chain((0..5).map(|i| old_lifetime(2000 + i, 0)))
        .collect();
    store.insert_batch(&seeded).unwrap();
    drop(store);
    let w = record(&db, &["--max-age", "1d"]);
    let stderr = stop(w);
    assert!(
        stderr.contains("retention deleted 50 old lifetimes"),
        "{stderr}"
    );
    assert!(history(&db, &["--comm", "old3"]).is_empty());
    assert_eq!(history(&db, &["--comm", "old0"]).len(), 5);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_input_gets_a_clear_error() {
    let _turn = turn();
    let dir = scratch("history-bad-input");
    let db: PathBuf = dir.join("h.db");
    Store::open(&db).unwrap();
    for (args, says) in [
        (vec!["--since", "yesterday"], "--since"),
        (vec!["--top", "cpu", "0"], "N must be a positive number"),
        (
            vec!["--top", "heat", "3"],
            "rank by cpu, rss, io or lifetime",
        ),
        (vec!["--sql", "DELETE FROM lifetime"], "--sql"),
        (vec!["--sql", "SELEC nonsense"], "--sql"),
        (vec!["--uid", "no-such-user-here"], "--uid"),
    ] {
        let out = history_cmd(&db, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let missing = history_cmd(&dir.join("absent.db"), &[]);
    let err = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(2));
    assert!(err.contains("taskwatch record"), "{err}");
    let out = Command::new(common::binary())
        .args(["record", "--max-age", "0s", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-age"));
    let _ = std::fs::remove_dir_all(dir);
}
