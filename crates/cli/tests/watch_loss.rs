//! Forced loss: a stalled `taskwatch watch` with a tiny receive buffer must report exactly
//! what the kernel dropped, then resync its process table from /proc.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::Watch;

/// The kernel's drop counter of the watcher's proc connector socket (/proc/net/netlink).
fn socket_drops(pid: u32) -> u64 {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|l| {
            Some(
                l.to_str()?
                    .strip_prefix("socket:[")?
                    .trim_end_matches(']')
                    .to_string(),
            )
        })
        .collect();
    let table = std::fs::read_to_string("/proc/net/netlink").unwrap();
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (eth, drops, inode) = (col("Eth"), col("Drops"), col("Inode"));
    table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|c| c[eth] == "11" && inodes.iter().any(|i| i == c[inode]))
        .map(|c| c[drops].parse::<u64>().unwrap())
        .sum()
}

fn lost_so_far(w: &Watch) -> u64 {
    w.events()
        .iter()
        .filter(|e| e["event"] == "lost" && e["source"] == "proc_connector")
        .map(|e| e["count"].as_u64().unwrap())
        .sum()
}

#[test]
fn stalled_reader_reports_exact_loss_and_resyncs() {
    if common::require_root("stalled_reader_reports_exact_loss_and_resyncs") {
        // Unfiltered socket: losses come from per-CPU sequence gaps.
        stall_and_check(&["--json", "--rcvbuf", "16K"], false);
    }
}

#[test]
fn kernel_filtered_reader_reports_exact_loss_too() {
    if common::require_root("kernel_filtered_reader_reports_exact_loss_too") {
        // Not every kind selected: the kernel filters, sequence numbers skip, and losses
        // come from the socket's drop counter instead.
        stall_and_check(&["--json", "--rcvbuf", "16K", "-e", "exec,exit"], true);
    }
}

/// The two tests flood the machine; run one at a time so one's storm cannot drop the
/// other's probes after its count was taken.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn stall_and_check(args: &[&str], filtered: bool) {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let watch = Watch::start(args);
    let log = watch.stderr.lock().unwrap().clone();
    assert_eq!(log.contains("kernel_filtered=true"), filtered, "{log}");
    watch.signal("STOP");
    for _ in 0..600 {
        Command::new("/bin/true").status().unwrap();
    }
    // Started while the socket is full: its fork and exec are lost.
    let mut marker = Command::new("sh")
        .args(["-c", "read x; exit 5"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let marker_pid = marker.id() as u64;
    watch.signal("CONT");
    // Later events on every CPU reveal the gaps at the tail of each CPU's sequence. A
    // probe's own events may be dropped too while the queue is still full, so keep
    // probing until one exit per CPU has come through.
    let mut probes: Vec<Vec<u64>> = vec![Vec::new(); num_cpus()];
    let started = std::time::Instant::now();
    loop {
        for (cpu, on_cpu) in probes.iter_mut().enumerate() {
            let mut c = Command::new("taskset")
                .args(["-c", &cpu.to_string(), "/bin/true"])
                .spawn()
                .unwrap();
            on_cpu.push(c.id() as u64);
            c.wait().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        let evs = watch.events();
        let seen = |p: &u64| evs.iter().any(|e| e["event"] == "exit" && e["pid"] == *p);
        if probes.iter().all(|on_cpu| on_cpu.iter().any(seen)) {
            break;
        }
        assert!(
            started.elapsed() < common::HANG_GUARD,
            "no probe exit came through on some CPU"
        );
    }

    let dropped = socket_drops(watch.pid());
    let reported = lost_so_far(&watch);
    eprintln!("kernel dropped {dropped}, taskwatch reported {reported}");
    assert!(dropped > 0, "the storm should have overflowed a 16K buffer");
    assert_eq!(
        reported, dropped,
        "reported loss must equal the kernel's drop count"
    );

    marker.stdin.take().unwrap().write_all(b"go\n").unwrap();
    marker.wait().unwrap();
    watch.wait_until(
        |evs| {
            evs.iter()
                .any(|e| e["event"] == "exit" && e["pid"] == marker_pid)
        },
        "the marker's exit",
    );
    let (status, events, stderr) = watch.stop();
    assert!(status.success(), "{stderr}");
    let exit = events
        .iter()
        .find(|e| e["event"] == "exit" && e["pid"] == marker_pid)
        .unwrap();
    // Only the resync from /proc can have told the table who the marker is.
    assert_eq!(exit["comm"], "sh", "{exit}");
    assert_eq!(
        exit["ppid"].as_u64(),
        Some(std::process::id() as u64),
        "{exit}"
    );
    assert_eq!(exit["exit_code"], 5);
    assert!(exit["lifetime_ns"].as_u64().is_some(), "{exit}");
}

fn num_cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
