//! Shared pieces of the integration tests: root checks, running `taskwatch` against the
//! real kernel, compiling the C workloads, and picking events of our own pids.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Hang guard only: no test asserts on time, but none may wait forever either.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// True when the test may run; when it may not, says why. In CI it must run.
pub fn require_root(test: &str) -> bool {
    // SAFETY-free check: /proc/self/status Uid line.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1)?.parse::<u32>().ok())
        .unwrap_or(u32::MAX);
    if euid == 0 {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test} needs root (the proc connector, ptrace of others, setresuid) and CI runs as root");
    }
    eprintln!("skipping {test}: needs root and CI is unset");
    false
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_taskwatch")
}

/// A scratch directory unique to this test process.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("taskwatch-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compiles a C workload from tests/workloads into the scratch dir.
pub fn compile(source: &str, dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/workloads")
        .join(source);
    let out = dir.join(source.trim_end_matches(".c"));
    let status = Command::new("cc")
        .args(["-O1", "-pthread", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("running cc");
    assert!(status.success(), "compiling {source}");
    out
}

/// A running `taskwatch watch` whose output lines are collected in the background.
pub struct Watch {
    pub child: Child,
    pub lines: Arc<Mutex<Vec<String>>>,
    pub stderr: Arc<Mutex<String>>,
}

impl Watch {
    /// Starts `taskwatch watch ARGS` and returns once it is listening.
    pub fn start(args: &[&str]) -> Watch {
        Watch::start_command("watch", args)
    }

    /// Starts `taskwatch COMMAND ARGS` and returns once it is listening.
    pub fn start_command(command: &str, args: &[&str]) -> Watch {
        let mut child = Command::new(binary())
            .arg(command)
            .args(args)
            .env("TASKWATCH_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting taskwatch");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let out = child.stdout.take().unwrap();
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let err = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let w = Watch {
            child,
            lines,
            stderr,
        };
        w.wait_until(
            |_| w.stderr.lock().unwrap().contains("watching"),
            "taskwatch to start listening",
        );
        w
    }

    /// Waits (hang guard only) until `done` holds for the JSON events so far.
    pub fn wait_until(&self, done: impl Fn(&[Value]) -> bool, what: &str) {
        let start = Instant::now();
        loop {
            if done(&self.events()) {
                return;
            }
            assert!(
                start.elapsed() < HANG_GUARD,
                "gave up waiting for {what}; stderr:\n{}",
                self.stderr.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every JSON line so far.
    pub fn events(&self) -> Vec<Value> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args(["-s", sig, &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -s {sig}");
    }

    /// SIGTERM, then the exit status and everything printed.
    pub fn stop(mut self) -> (ExitStatus, Vec<Value>, String) {
        self.signal("TERM");
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let events = self.events();
        let stderr = self.stderr.lock().unwrap().clone();
        (status, events, stderr)
    }
}

/// Events whose pid (or, for forks, child or parent) is `pid`, in order.
pub fn about(events: &[Value], pid: u64) -> Vec<&Value> {
    events.iter().filter(|e| e["pid"] == pid).collect()
}

/// The single event of `kind` about `pid`; fails with the candidates otherwise.
pub fn one<'a>(events: &'a [Value], pid: u64, kind: &str) -> &'a Value {
    let found: Vec<&Value> = events
        .iter()
        .filter(|e| e["pid"] == pid && e["event"] == kind)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {kind} event for pid {pid}, got {found:?}"
    );
    found[0]
}
