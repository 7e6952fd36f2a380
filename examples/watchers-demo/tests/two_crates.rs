//! Watchers from two crates, linked into one program, both act on real events: the
//! policy kills a program run from /tmp, the accountant counts forks per uid exactly.

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1))
        == Some("0")
}

#[test]
fn policy_and_accountant_from_two_crates() {
    if !is_root() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root: this test must run there"
        );
        eprintln!("skipping: needs root (proc connector, killing other users' tasks)");
        return;
    }
    let mut demo = Command::new(env!("CARGO_BIN_EXE_tw-watchers-demo"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(demo.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready", "{line}");

    // Policy: a program under /tmp is killed once it has exec'd.
    let dir = std::env::temp_dir().join(format!("tw-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sleeper = dir.join("sleep");
    std::fs::copy("/bin/sleep", &sleeper).unwrap();
    let mut victim = Command::new(&sleeper).arg("60").spawn().unwrap();
    let victim_pid = victim.id();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = victim.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the /tmp program was not killed"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status:?}");
    // Not under /tmp: allowed.
    assert!(Command::new("/bin/sleep")
        .arg("0")
        .status()
        .unwrap()
        .success());

    // Accountant: a uid-65534 shell forks exactly twice.
    let ok = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "/bin/sh",
            "-c",
            "/bin/true; /bin/true; exit 0",
        ])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let kill = Command::new("kill")
        .args(["-TERM", &demo.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = demo.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let denial = lines
        .iter()
        .find(|v| v["denied"] == victim_pid)
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(denial["killed"], true);
    assert!(
        denial["watcher"]
            .as_str()
            .unwrap()
            .contains("deny_tmp_exec"),
        "{denial}"
    );
    assert_eq!(
        lines.iter().filter(|v| v.get("denied").is_some()).count(),
        1,
        "only the /tmp program: {text}"
    );
    let counts = &lines.last().unwrap()["forks_by_uid"];
    assert_eq!(counts["65534"], 2, "{text}");
    assert!(
        counts["0"].as_u64().unwrap() >= 3,
        "our own forks as root: {text}"
    );
}
