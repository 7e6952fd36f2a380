//! Shared pieces of the daemon tests: a `taskwatch daemon` on a scratch socket, raw
//! protocol subscribers whose lines are collected in the background, metrics scrapes.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "../common/mod.rs"]
pub mod common;

#[allow(unused_imports)] // each test binary uses its own subset
pub use common::{binary, require_root, HANG_GUARD};

/// Polls `done` (hang guard only).
pub fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < HANG_GUARD, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Collects the lines of `reader` in the background.
pub fn collect(reader: impl Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

/// A running daemon on a scratch socket.
pub struct Daemon {
    pub child: Child,
    pub socket: PathBuf,
    pub metrics: SocketAddr,
    pub stderr: Arc<Mutex<Vec<String>>>,
}

/// A loopback port free right now.
pub fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

impl Daemon {
    /// Starts `taskwatch daemon` on `socket` with metrics, and waits until it is ready.
    pub fn start(socket: &Path, extra: &[&str]) -> Daemon {
        let metrics = free_port();
        let mut child = Command::new(binary())
            .arg("daemon")
            .arg("--socket")
            .arg(socket)
            .arg("--metrics")
            .arg(metrics.to_string())
            .args(extra)
            .env("TASKWATCH_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting taskwatch daemon");
        let stderr = collect(child.stderr.take().unwrap());
        let d = Daemon {
            child,
            socket: socket.to_owned(),
            metrics,
            stderr,
        };
        wait_for("the daemon to be ready", || {
            d.stderr_text().contains("ready: serving subscribers")
        });
        d
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stderr_text(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// One metric's value (the first sample whose line starts with `series`).
    pub fn metric(&self, series: &str) -> f64 {
        self.metric_if_present(series)
            .unwrap_or_else(|| panic!("no metric {series} in:\n{}", scrape(self.metrics)))
    }

    /// One metric's value, `None` while the daemon does not publish it.
    pub fn metric_if_present(&self, series: &str) -> Option<f64> {
        scrape(self.metrics)
            .lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    /// Open file descriptors of the daemon.
    pub fn fd_count(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .unwrap()
            .count()
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(mut self) -> (ExitStatus, String) {
        signal(self.pid(), "TERM");
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let text = self.stderr_text();
        (status, text)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args(["-s", sig, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -s {sig} {pid}");
}

/// The Prometheus text from `addr`.
pub fn scrape(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).expect("connecting to the metrics address");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}

/// A raw protocol client: requests written by the test, every line read collected.
pub struct RawClient {
    pub stream: UnixStream,
    pub lines: Arc<Mutex<Vec<String>>>,
}

impl RawClient {
    pub fn connect(socket: &Path) -> RawClient {
        let stream = UnixStream::connect(socket).expect("connecting to the daemon");
        let lines = collect(stream.try_clone().unwrap());
        let c = RawClient { stream, lines };
        c.wait_line("hello", |v| v["reply"] == "hello");
        c
    }

    pub fn send(&mut self, line: &str) {
        self.stream.write_all(line.as_bytes()).unwrap();
        self.stream.write_all(b"\n").unwrap();
    }

    /// All lines as JSON (a line that is not JSON fails the test).
    pub fn values(&self) -> Vec<Value> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// Waits for a line matching `pred` and returns it.
    pub fn wait_line(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let mut found = None;
        wait_for(what, || {
            found = self.values().into_iter().find(|v| pred(v));
            found.is_some()
        });
        found.unwrap()
    }

    /// Sends a request with `tag` and returns its reply.
    pub fn request(&mut self, tag: u64, body: &str) -> Value {
        let line = format!("{{\"tag\":{tag},{}", body.trim_start_matches('{'));
        self.send(&line);
        self.wait_line(&format!("the reply to {line}"), |v| {
            v.get("reply").is_some() && v["tag"] == tag
        })
    }

    /// Event lines so far.
    pub fn events(&self) -> Vec<Value> {
        self.values()
            .into_iter()
            .filter(|v| v.get("event").is_some())
            .collect()
    }
}

/// Runs a program pinned to `cpu` and returns its pid once it exited.
pub fn run_pinned(cpu: u32, program: &str) -> u32 {
    let mut c = Command::new("taskset")
        .args(["-c", &cpu.to_string(), program])
        .spawn()
        .expect("taskset");
    let pid = c.id();
    assert!(c.wait().unwrap().success());
    pid
}

/// The exit event of `pid` is among `events`.
pub fn saw_exit(events: &[Value], pid: u32) -> bool {
    events
        .iter()
        .any(|e| e["event"] == "exit" && e["pid"] == pid)
}

/// A scratch directory unique to this test process.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("taskwatch-daemon-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
