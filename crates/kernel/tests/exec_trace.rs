//! ExecTracer against the real kernel: every child we exec must come back, by pid, with
//! exactly the path we exec'd, even though it exited before we looked.
//!
//! Needs root (or CAP_PERFMON). Skipped without root unless `CI` is set: in CI it runs and
//! fails instead.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use taskwatch_kernel::exec_trace::{ExecTraceLimits, ExecTracer};

fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

fn should_skip() -> bool {
    if effective_uid() == Some(0) || std::env::var_os("CI").is_some() {
        return false;
    }
    eprintln!("skipping exec_trace: needs root for perf_event_open on every task (CI unset)");
    true
}

/// A copy of /bin/true under a name no other process uses, removed on drop.
struct UniqueTrue {
    dir: PathBuf,
    path: PathBuf,
}

impl UniqueTrue {
    fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "taskwatch-exec-trace-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("true-{nanos}"));
        std::fs::copy("/bin/true", &path).unwrap();
        UniqueTrue { dir, path }
    }
}

impl Drop for UniqueTrue {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(path: &Path) -> u32 {
    let mut child = Command::new(path).spawn().unwrap();
    let pid = child.id();
    assert!(child.wait().unwrap().success());
    pid
}

#[test]
fn take_returns_the_exact_path_of_each_short_lived_child() {
    if should_skip() {
        return;
    }
    let mut tracer = ExecTracer::open(64).unwrap_or_else(|e| panic!("open ExecTracer: {e}"));
    assert!(tracer.cpus().count() >= 1);
    let unique = UniqueTrue::new();

    let mut expected = Vec::new();
    for _ in 0..5 {
        expected.push((run(Path::new("/bin/true")), PathBuf::from("/bin/true")));
    }
    for _ in 0..3 {
        expected.push((run(&unique.path), unique.path.clone()));
    }

    tracer.drain();
    let mut last_time = 0;
    for (pid, path) in &expected {
        let (time_ns, filename) = tracer
            .take(*pid)
            .unwrap_or_else(|| panic!("no exec recorded for pid {pid} ({})", path.display()));
        assert_eq!(
            filename,
            path.as_os_str().as_encoded_bytes(),
            "pid {pid}: got {:?}",
            String::from_utf8_lossy(&filename)
        );
        // Children ran one after the other: their exec times must increase.
        assert!(
            time_ns > last_time,
            "pid {pid}: time {time_ns} <= {last_time}"
        );
        last_time = time_ns;
        assert!(tracer.take(*pid).is_none(), "pid {pid} taken twice");
    }
    assert_eq!(tracer.lost(), 0);
    assert_eq!(tracer.malformed(), 0);
}

#[test]
fn unclaimed_entries_expire_after_max_drains() {
    if should_skip() {
        return;
    }
    let limits = ExecTraceLimits::new(2, 60_000_000_000);
    let mut tracer =
        ExecTracer::open_with_limits(8, limits).unwrap_or_else(|e| panic!("open ExecTracer: {e}"));
    let kept = run(Path::new("/bin/true"));
    tracer.drain(); // finds it
    tracer.drain();
    tracer.drain(); // 2 drains later: still there
    assert!(tracer.take(kept).is_some(), "pid {kept} expired too early");

    let expired = run(Path::new("/bin/true"));
    tracer.drain(); // finds it
    tracer.drain();
    tracer.drain();
    tracer.drain(); // 3 drains later: dropped
    assert!(
        tracer.take(expired).is_none(),
        "pid {expired} kept too long"
    );
    assert!(tracer.dropped() >= 1);
}

#[test]
fn a_pid_that_execs_twice_yields_its_last_file() {
    if should_skip() {
        return;
    }
    let mut tracer = ExecTracer::open(64).unwrap_or_else(|e| panic!("open ExecTracer: {e}"));
    let unique = UniqueTrue::new();
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("exec {}", unique.path.display()))
        .spawn()
        .unwrap();
    let pid = child.id();
    assert!(child.wait().unwrap().success());
    tracer.drain();
    let (_, filename) = tracer.take(pid).expect("exec recorded");
    assert_eq!(filename, unique.path.as_os_str().as_encoded_bytes());
}

#[test]
fn records_split_by_the_ring_wrap_decode() {
    if should_skip() {
        return;
    }
    // One 4 KiB page per CPU holds about 60 samples: 200 rounds wrap it several times, so
    // some records straddle the end of the ring and must be joined.
    let mut tracer = ExecTracer::open(1).unwrap_or_else(|e| panic!("open ExecTracer: {e}"));
    let unique = UniqueTrue::new();
    for round in 0..200 {
        let pid = run(&unique.path);
        tracer.drain();
        let (_, filename) = tracer
            .take(pid)
            .unwrap_or_else(|| panic!("round {round}: no exec for pid {pid}"));
        assert_eq!(filename, unique.path.as_os_str().as_encoded_bytes());
    }
    assert_eq!(tracer.malformed(), 0);
}

#[test]
fn a_full_ring_counts_lost_samples() {
    if should_skip() {
        return;
    }
    let mut tracer = ExecTracer::open(1).unwrap_or_else(|e| panic!("open ExecTracer: {e}"));
    // 300 samples of at least 56 bytes do not fit in two 4 KiB rings.
    for _ in 0..300 {
        run(Path::new("/bin/true"));
    }
    tracer.drain();
    let kept = tracer.pending();
    // The kernel writes PERF_RECORD_LOST only once the ring has room again, before the
    // next sample after a drain: the count shows up one drain late.
    let pid = run(Path::new("/bin/true"));
    tracer.drain();
    assert!(kept < 300, "{kept} samples kept: the ring never filled");
    assert!(
        tracer.lost() > 0,
        "no PERF_RECORD_LOST after overfilling the ring"
    );
    assert_eq!(tracer.take(pid).unwrap().1, b"/bin/true");
}
