//! `isolation::enter` against the real kernel: after entering, a system call is stopped
//! before it runs and the thread killed with a report naming it, and so is a page fault.
//!
//! Each case re-runs this binary as a child (TASKWATCH_STRICT_CHILD=case) that pins
//! itself to a CPU, enters isolation (--allow-unisolated semantics: this machine kind has
//! no nohz_full) and violates strict mode; the parent checks how the child ended.

use std::process::{Command, ExitCode};

use taskwatch_isolate::isolation::{enter_with, EnterOptions};
use taskwatch_kernel::task_control::pin_current_thread;

const CHILD_ENV: &str = "TASKWATCH_STRICT_CHILD";

fn main() -> ExitCode {
    if let Ok(case) = std::env::var(CHILD_ENV) {
        return child(&case);
    }
    if !may_run() {
        return ExitCode::SUCCESS;
    }
    let cpu = target_cpu();
    let mut failed = 0;
    for (case, expected) in [
        ("syscall", "syscall write(fd=1, count=7)"),
        ("page_fault", "page fault at 0x"),
    ] {
        let out = Command::new(std::env::current_exe().unwrap())
            .env(CHILD_ENV, case)
            .env("TARGET_CPU", cpu.to_string())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let pid = stderr
            .lines()
            .find_map(|l| l.strip_prefix("entered pid "))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or("?");
        let report = format!("strict: pid {pid} cpu {cpu}: {expected}");
        let killed = std::os::unix::process::ExitStatusExt::signal(&out.status) == Some(9);
        let mut ok = killed && stderr.contains(&report) && !stdout.contains("leaked");
        if case == "page_fault" {
            ok &= fault_is_in_the_stack(&stderr);
        }
        println!(
            "test strict_enter::{case} ... {}",
            if ok { "ok" } else { "FAILED" }
        );
        if !ok {
            failed += 1;
            println!(
                "  status {:?}\n  stdout {stdout:?}\n  stderr {stderr}",
                out.status
            );
        }
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The faulting address lies in the 16 MiB below the stack address the child printed.
fn fault_is_in_the_stack(stderr: &str) -> bool {
    let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok();
    let top = stderr
        .lines()
        .find_map(|l| l.strip_prefix("stack at "))
        .and_then(hex);
    let fault = stderr
        .lines()
        .find_map(|l| l.split("page fault at ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(hex);
    matches!((top, fault), (Some(top), Some(fault)) if fault < top && top - fault < 16 << 20)
}

fn child(case: &str) -> ExitCode {
    let cpu: u32 = std::env::var("TARGET_CPU").unwrap().parse().unwrap();
    pin_current_thread(cpu).unwrap();
    let mut options = EnterOptions::default();
    options.allow_unisolated = true;
    let here = 0u8;
    eprintln!("entered pid {} cpu {cpu}", std::process::id());
    eprintln!("stack at {:#x}", std::ptr::addr_of!(here) as usize);
    let entered =
        enter_with(taskwatch_isolate::flags::PR_TASK_ISOLATION_ENABLE, &options).expect("enter");
    std::hint::black_box(&entered);
    match case {
        "syscall" => {
            // A write through std: strict mode must stop it before it runs.
            let text = b"leaked\n";
            let _ = std::io::Write::write(&mut std::io::stdout().lock(), text);
        }
        _ => deep_stack(8 << 20),
    }
    std::process::exit(3)
}

/// Uses `bytes` of fresh stack: far below what enter prefaulted, so the first touch faults.
#[inline(never)]
fn deep_stack(bytes: usize) {
    let mut block = [0u8; 64 << 10];
    std::hint::black_box(&mut block);
    if bytes > block.len() {
        deep_stack(bytes - block.len());
    }
    std::hint::black_box(&block);
}

fn target_cpu() -> u32 {
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap();
    online
        .trim()
        .rsplit([',', '-'])
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Root, or CI (where not being root is a failure).
fn may_run() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1))
        == Some("0");
    if root {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("strict_enter needs root (vm.stat_refresh, mlockall of a test binary) and CI runs as root");
    }
    println!("skipping strict_enter: needs root and CI is unset");
    false
}
