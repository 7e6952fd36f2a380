//! `taskwatch isolate check`: one JSON line per check plus a verdict, an exit status that
//! matches it, and clear refusals of CPUs that do not exist.

use std::process::Command;

fn check(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_taskwatch"))
        .args(["isolate", "check"])
        .args(args)
        .output()
        .expect("run taskwatch");
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn json_lines_and_exit_status_agree() {
    let (code, stdout, _) = check(&["--cpu", "0", "--json"]);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect();
    let verdict = lines.last().expect("a verdict line");
    let suitable = verdict["suitable"].as_bool().expect("suitable is a bool");
    assert_eq!(code, Some(if suitable { 0 } else { 1 }));
    let checks = &lines[..lines.len() - 1];
    let names: Vec<_> = checks
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    for expected in [
        "cpu",
        "nohz_full",
        "irq_affinity",
        "kthreads",
        "smt_sibling",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    let failed = checks.iter().any(|c| c["status"] == "fail");
    assert_eq!(suitable, !failed);
    // Without nohz_full in the kernel, no CPU can be suitable.
    let nohz = std::fs::read_to_string("/sys/devices/system/cpu/nohz_full").unwrap_or_default();
    if nohz.trim().is_empty() {
        assert!(!suitable);
        let line = checks.iter().find(|c| c["check"] == "nohz_full").unwrap();
        assert_eq!(line["status"], "fail");
        assert!(
            line["fix"].as_str().unwrap().contains("nohz_full=0"),
            "{line}"
        );
    }
}

#[test]
fn a_cpu_that_does_not_exist_fails_with_the_machine_cpus_named() {
    let (code, stdout, _) = check(&["--cpu", "9999"]);
    assert_eq!(code, Some(1));
    assert!(stdout.contains("CPU 9999 does not exist"), "{stdout}");
}

#[test]
fn a_malformed_cpu_is_a_usage_error() {
    let (code, _, stderr) = check(&["--cpu", "one"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--cpu"), "{stderr}");
}
