//! How `taskwatch watch` behaves as a command: clear errors with exit 2 for bad input or
//! an unusable environment, quiet exit on a closed pipe, --count, filters and --stats.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::Watch;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(common::binary()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn bad_flags_get_a_clear_error_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["watch", "-e", "fork,bogus"],
            "unknown event kind \"bogus\"",
        ),
        (&["watch", "--duration=-1"], "--duration"),
        (&["watch", "--duration", "0"], "--duration"),
        (&["watch", "--duration", "nan"], "--duration"),
        (&["watch", "--uid", "no-such-user-here"], "no such user"),
        (&["watch", "--children"], "--children needs"),
        (
            &["watch", "--comm", "a-name-longer-than-15"],
            "1 to 15 bytes",
        ),
        (&["watch", "--rcvbuf", "1K"], "out of range"),
        (&["watch", "--pid", "abc"], "invalid value"),
    ];
    for (args, needle) in cases {
        let (code, stdout, stderr) = run(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?} printed {stdout}");
        assert!(
            stderr.contains(needle),
            "{args:?}: expected {needle:?} in {stderr:?}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn outside_the_initial_pid_namespace_it_says_why() {
    if !common::require_root("outside_the_initial_pid_namespace_it_says_why") {
        return;
    }
    let out = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(common::binary())
        .args(["watch", "--duration", "5"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains("non-initial pid namespace"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one clear line: {stderr}");
}

#[test]
fn closed_pipe_exits_quietly() {
    if !common::require_root("closed_pipe_exits_quietly") {
        return;
    }
    let mut child = Command::new(common::binary())
        .args(["watch", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    while line.is_empty() {
        Command::new("/bin/true").status().unwrap();
        reader.read_line(&mut line).unwrap();
    }
    drop(reader); // like `taskwatch watch | head -1`
    for _ in 0..50 {
        Command::new("/bin/true").status().unwrap();
        if child.try_wait().unwrap().is_some() {
            break;
        }
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn count_stops_after_n_events() {
    if !common::require_root("count_stops_after_n_events") {
        return;
    }
    let mut child = Command::new(common::binary())
        .args(["watch", "--json", "--count", "3", "-e", "exec"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        Command::new("/bin/true").status().unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines
        .iter()
        .all(|e| e["event"] == "exec" || e["event"] == "lost"));
}

#[test]
fn pid_filter_with_children_shows_only_descendants() {
    if !common::require_root("pid_filter_with_children_shows_only_descendants") {
        return;
    }
    let mut root = Command::new("sh")
        .args(["-c", "read x; sh -c '/bin/true; exit 4'; exit 0"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let root_pid = root.id();
    let watch = Watch::start(&["--json", "--pid", &root_pid.to_string(), "--children"]);
    Command::new("/bin/true").status().unwrap(); // not a descendant: must not show
    use std::io::Write;
    root.stdin.take().unwrap().write_all(b"go\n").unwrap();
    root.wait().unwrap();
    watch.wait_until(
        |evs| {
            evs.iter()
                .any(|e| e["event"] == "exit" && e["pid"] == root_pid)
        },
        "the root's exit",
    );
    let (status, events, _) = watch.stop();
    assert!(status.success());
    let exits: Vec<_> = events.iter().filter(|e| e["event"] == "exit").collect();
    assert_eq!(
        exits.len(),
        3,
        "root, its sh child and the grandchild /bin/true: {exits:?}"
    );
    assert!(exits.iter().any(|e| e["exit_code"] == 4));
    for e in events.iter().filter(|e| e["event"] != "lost") {
        let pid = e["pid"].as_u64().unwrap() as u32;
        let ppid = e["ppid"].as_u64().unwrap_or(0) as u32;
        assert!(pid == root_pid || ppid != 0, "{e}");
    }
}

#[test]
fn stats_table_counts_by_command() {
    if !common::require_root("stats_table_counts_by_command") {
        return;
    }
    let watch = Watch::start(&["--stats", "--quiet"]);
    let dir = common::scratch("stats");
    let named = dir.join("tw-statcount");
    std::fs::copy("/bin/true", &named).unwrap();
    let mut pids = Vec::new();
    for _ in 0..5 {
        let mut c = Command::new(&named).spawn().unwrap();
        pids.push(c.id());
        c.wait().unwrap();
    }
    let lines = std::sync::Arc::clone(&watch.lines);
    let (status, _, _) = watch.stop();
    assert!(status.success());
    let text = lines.lock().unwrap().join("\n");
    let header = text
        .lines()
        .find(|l| l.contains("total") && l.contains("COMM"))
        .expect(&text);
    assert!(
        header.contains("fork") && header.contains("exit"),
        "{header}"
    );
    let row = text
        .lines()
        .find(|l| l.ends_with(" tw-statcount"))
        .expect(&text);
    let cols: Vec<u64> = row
        .split_whitespace()
        .take(10)
        .map(|c| c.parse().unwrap())
        .collect();
    // fork exec uid gid sid ptrace comm coredump exit total: 5 execs and 5 exits as tw-statcount
    assert_eq!((cols[1], cols[8]), (5, 5), "{row}");
    // Then each watcher's sampled time: the stats watcher timed itself at least once.
    let times = text
        .split_once("watcher time (1 event in 1024 timed):")
        .expect(&text)
        .1;
    let own = times
        .lines()
        .find(|l| l.ends_with("watchers::stats::count_event"))
        .expect(times);
    let calls: u64 = own.split_whitespace().next().unwrap().parse().unwrap();
    assert!(calls >= 1, "{own}");
}

#[test]
fn audit_log_records_every_exec_with_its_parent_chain() {
    if !common::require_root("audit_log_records_every_exec_with_its_parent_chain") {
        return;
    }
    let dir = common::scratch("audit");
    let log = dir.join("audit.jsonl");
    let named = dir.join("tw-audited");
    std::fs::copy("/bin/true", &named).unwrap();
    // The display shows forks only; the audit log must still get every exec.
    let watch = Watch::start(&["--quiet", "-e", "fork", "--audit", log.to_str().unwrap()]);
    let status = Command::new(&named)
        .args(["arg1", "two words"])
        .status()
        .unwrap();
    assert!(status.success());
    let find = || -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(&log).ok()?;
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["exe"] == named.to_str().unwrap())
    };
    watch.wait_until(|_| find().is_some(), "the audit line");
    let (status, _, _) = watch.stop();
    assert!(status.success());
    let line = find().unwrap();
    assert_eq!(line["uid"], 0, "{line}");
    if !line["argv"].is_null() {
        assert_eq!(
            line["argv"],
            serde_json::json!([named.to_str().unwrap(), "arg1", "two words"])
        );
    }
    let me = std::process::id() as u64;
    let chain: Vec<u64> = line["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(
        chain.first(),
        Some(&me),
        "the parent chain starts at the test process: {line}"
    );
    assert!(chain.contains(&1) || chain.len() > 1, "{line}");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&log).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
}
