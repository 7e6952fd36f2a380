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

fn stall_and_check(args: &[&str], filtered: bool) {
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
    // Later events on every CPU reveal the gaps at the tail of each CPU's sequence.
    let mut probes = Vec::new();
    for cpu in 0..num_cpus() {
        for _ in 0..3 {
            let c = Command::new("taskset")
                .args(["-c", &cpu.to_string(), "/bin/true"])
                .spawn()
                .unwrap();
            probes.push(c.id() as u64);
            let mut c = c;
            c.wait().unwrap();
        }
    }
    watch.wait_until(
        |evs| {
            probes
                .iter()
                .all(|p| evs.iter().any(|e| e["event"] == "exit" && e["pid"] == *p))
        },
        "probe exits",
    );

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
