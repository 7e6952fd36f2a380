//! The watcher tables are read-only at run time: a process writing to one dies with SIGSEGV.
//! Core's tests are linked with link/watcher-tables.ld, as taskwatch's binaries are.

// The point of this test is an illegal write; it needs a raw pointer store.
#![allow(unsafe_code)]

use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use taskwatch_core::watcher::{table, Watcher};
use taskwatch_core::{task_watcher, Ctx, Kind, Verdict};

const CHILD_ROLE: &str = "TASKWATCH_TEST_POKE";
const SIGSEGV: i32 = 11;

fn original(_: &Ctx<'_>) -> Verdict {
    Verdict::Continue
}

fn replacement(_: &Ctx<'_>) -> Verdict {
    Verdict::Stop
}

task_watcher!(exec, original);

/// Overwrites the function pointer of `entry`, as a stray write or an exploit would.
fn overwrite(entry: *const Watcher) {
    let target = entry.cast_mut();
    // SAFETY: deliberately unsound when `entry` is in the linker table: the test expects
    // the store to fault before anything can observe it. For the heap copy it is a plain
    // write to memory this function's caller owns exclusively.
    unsafe { std::ptr::addr_of_mut!((*target).func).write_volatile(replacement) };
}

/// Runs one role of this test binary in a child process and returns how it ended.
fn run_child(role: &str) -> std::process::ExitStatus {
    let exe = std::env::current_exe().expect("test binary path");
    Command::new(exe)
        .args([
            "--exact",
            "child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ROLE, role)
        .status()
        .expect("spawn child")
}

/// Not a test on its own: the body of the child processes spawned below.
#[test]
#[ignore = "run only as the child of the tests below"]
fn child() {
    let Ok(role) = std::env::var(CHILD_ROLE) else {
        return;
    };
    let exec = table(Kind::Exec);
    let ours = exec
        .iter()
        .find(|w| w.name.ends_with("::original"))
        .expect("the watcher registered above is in the exec table");
    match role.as_str() {
        "table" => overwrite(ours),
        "heap-copy" => {
            let copy = Box::new(Watcher {
                name: ours.name,
                func: ours.func,
            });
            let raw = Box::into_raw(copy);
            overwrite(raw);
            // SAFETY: `raw` came from Box::into_raw just above and is not used again.
            let copy = unsafe { Box::from_raw(raw) };
            assert!(std::ptr::fn_addr_eq(
                copy.func,
                replacement as fn(&Ctx<'_>) -> Verdict
            ));
        }
        other => panic!("unknown role {other}"),
    }
    std::process::exit(0);
}

#[test]
fn writing_to_a_watcher_table_faults() {
    let status = run_child("table");
    assert_eq!(
        status.signal(),
        Some(SIGSEGV),
        "a write to the exec table must die with SIGSEGV, got {status:?}"
    );
}

#[test]
fn the_same_write_to_writable_memory_succeeds() {
    // Shows the harness can tell: the identical store into a heap copy of the entry
    // completes and the child exits normally.
    let status = run_child("heap-copy");
    assert!(status.success(), "heap write must succeed, got {status:?}");
}

#[test]
fn the_table_still_reads_normally() {
    let names: Vec<_> = table(Kind::Exec).iter().map(|w| w.name).collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].ends_with("readonly_tables::original"), "{names:?}");
}
