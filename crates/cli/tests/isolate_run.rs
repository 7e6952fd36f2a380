//! `taskwatch isolate run` against the real kernel: refusal of an unisolated CPU, the
//! prctl ABI (EINVAL on two CPUs, 0 on one, then strict mode kills on write), and the
//! tick attributed with the reason it kept running. This machine kind has no nohz_full,
//! so the runs pass --allow-unisolated.

mod common;

use std::process::{Command, Output};

use serde_json::Value;

/// The last online CPU other than 0, where the workloads run.
fn target_cpu() -> u32 {
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap();
    let last: u32 = online
        .trim()
        .rsplit([',', '-'])
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        last > 0,
        "isolate run needs two online CPUs, found {online:?}"
    );
    last
}

fn is_nohz_full(cpu: u32) -> bool {
    std::fs::read_to_string("/sys/devices/system/cpu/nohz_full")
        .map(|t| {
            t.trim().split(',').any(|part| match part.split_once('-') {
                Some((a, b)) => {
                    (a.parse().unwrap_or(u32::MAX)..=b.parse().unwrap_or(0)).contains(&cpu)
                }
                None => part.parse() == Ok(cpu),
            })
        })
        .unwrap_or(false)
}

fn isolate_run(args: &[&str]) -> Output {
    Command::new(common::binary())
        .args(["isolate", "run"])
        .args(args)
        .output()
        .expect("run taskwatch")
}

/// The summary line (the last JSON line on stdout).
fn summary(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| {
            panic!(
                "no JSON on stdout; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let v: Value = serde_json::from_str(last).unwrap();
    assert_eq!(v["summary"], true, "{v}");
    v
}

#[test]
fn an_unisolated_cpu_is_refused_naming_nohz_full() {
    let cpu = target_cpu();
    if is_nohz_full(cpu) {
        eprintln!("skipping: CPU {cpu} is nohz_full here, so nohz_full cannot be what is missing");
        return;
    }
    let out = isolate_run(&["--cpu", &cpu.to_string(), "--", "true"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nohz_full"), "{stderr}");
    assert!(stderr.contains("--allow-unisolated"), "{stderr}");
}

#[test]
fn bad_cpus_and_missing_programs_are_refused() {
    let out = isolate_run(&["--cpu", "9999", "--allow-unisolated", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CPU 9999 does not exist"));
    let out = isolate_run(&["--cpu", "x", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    let out = isolate_run(&["--cpu", "1", "--strict=NOPE", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOPE"));
}

#[test]
fn prctl_with_two_cpus_gets_einval() {
    if !common::require_root("prctl_with_two_cpus_gets_einval") {
        return;
    }
    let dir = common::scratch("isolate-two-cpus");
    let workload = common::compile("isolation_prctl.c", &dir);
    let cpu = target_cpu().to_string();
    let out = isolate_run(&[
        "--cpu",
        &cpu,
        "--allow-unisolated",
        "--",
        workload.to_str().unwrap(),
        "two-cpus",
        &cpu,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim(), "prctl=-1 errno=22");
}

#[test]
fn prctl_with_one_cpu_succeeds_then_write_is_killed_and_named() {
    if !common::require_root("prctl_with_one_cpu_succeeds_then_write_is_killed_and_named") {
        return;
    }
    let dir = common::scratch("isolate-one-cpu");
    let workload = common::compile("isolation_prctl.c", &dir);
    let cpu = target_cpu().to_string();
    let out = isolate_run(&[
        "--cpu",
        &cpu,
        "--allow-unisolated",
        "--json",
        "--",
        workload.to_str().unwrap(),
        "one-cpu",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Exit 3 or 4 would mean the prctls did not answer 0 and the flags.
    assert_eq!(out.status.code(), Some(128 + 9), "stderr: {stderr}");
    let v = summary(&out);
    let pid = v["pid"].as_u64().unwrap();
    assert_eq!(v["signal"], 9, "{v}");
    let violations = v["strict_violations"].as_array().unwrap();
    assert_eq!(violations.len(), 1, "{v}");
    assert_eq!(violations[0]["tid"], pid);
    assert_eq!(violations[0]["what"], "syscall write(fd=1, count=6)");
    let line = format!("strict: pid {pid} cpu {cpu}: syscall write(fd=1, count=6) at +");
    assert!(stderr.contains(&line), "{stderr}");
    // The write never ran: nothing but JSON on stdout.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("hello"));
}

#[test]
fn strict_after_arms_strict_mode_for_a_program_that_never_calls_prctl() {
    if !common::require_root("strict_after_arms_strict_mode_for_a_program_that_never_calls_prctl") {
        return;
    }
    let dir = common::scratch("isolate-strict-after");
    let workload = common::compile("isolation_prctl.c", &dir);
    let cpu = target_cpu().to_string();
    // The program naps for a minute unless strict mode arms and signals it (TERM here, to
    // see the chosen signal) on its first nanosleep after 100 ms.
    let out = isolate_run(&[
        "--cpu",
        &cpu,
        "--allow-unisolated",
        "--strict=TERM",
        "--strict-after",
        "100ms",
        "--json",
        "--",
        workload.to_str().unwrap(),
        "naps",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128 + 15), "stderr: {stderr}");
    let v = summary(&out);
    assert_eq!(v["signal"], 15, "{v}");
    let violations = v["strict_violations"].as_array().unwrap();
    assert!(!violations.is_empty(), "{v}");
    let what = violations[0]["what"].as_str().unwrap();
    assert!(
        what.starts_with("syscall clock_nanosleep") || what.starts_with("syscall nanosleep"),
        "{v}"
    );
    let pid = v["pid"].as_u64().unwrap();
    assert!(
        stderr.contains(&format!("strict: pid {pid} cpu {cpu}: {what} at +")),
        "{stderr}"
    );
}

#[test]
fn a_spinning_program_has_its_ticks_attributed_with_the_reason() {
    if !common::require_root("a_spinning_program_has_its_ticks_attributed_with_the_reason") {
        return;
    }
    let dir = common::scratch("isolate-spin");
    let workload = common::compile("isolation_prctl.c", &dir);
    let cpu = target_cpu();
    let out = isolate_run(&[
        "--cpu",
        &cpu.to_string(),
        "--allow-unisolated",
        "--json",
        "--",
        workload.to_str().unwrap(),
        "spin",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = summary(&out);
    assert_eq!(v["cpu"], cpu);
    let ticks: Vec<&Value> = v["causes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["class"] == "tick")
        .collect();
    assert!(!ticks.is_empty(), "no tick attributed: {v}");
    let expected_reason = if is_nohz_full(cpu) {
        "kept running: tick_stop dependency".to_owned()
    } else {
        format!("kept running: CPU {cpu} is not nohz_full")
    };
    for tick in &ticks {
        assert!(tick["count"].as_u64().unwrap() >= 1);
        assert!(
            tick["detail"].as_str().unwrap().contains(&expected_reason),
            "{tick}"
        );
        assert!(tick["max_ns"].as_u64().unwrap() <= tick["total_ns"].as_u64().unwrap());
    }
    // The timeline lines before the summary are the interruptions, in the contract's classes.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let timeline: Vec<Value> = stdout
        .lines()
        .filter(|l| !l.contains("\"summary\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(timeline.iter().any(|l| l["class"] == "tick"));
}
