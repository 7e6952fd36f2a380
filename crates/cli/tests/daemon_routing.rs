//! Routing exactness: subscribers on CPU 0, CPU 1 and CPUs 0-1 during a fork storm. The
//! first two receive only their CPU's events and nothing in common; together they
//! receive exactly what the third does (looking at the tasks this test created).

mod daemon_support;

use std::collections::BTreeSet;
use std::process::Command;

use daemon_support::*;
use serde_json::Value;

const CHILDREN_PER_SHELL: u32 = 200;

fn ours(lines: &[String], pids: &BTreeSet<u64>) -> BTreeSet<String> {
    lines
        .iter()
        .filter(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            assert_ne!(v["event"], "lost", "a loss makes exactness untestable: {l}");
            v["pid"].as_u64().is_some_and(|p| pids.contains(&p))
        })
        .cloned()
        .collect()
}

#[test]
fn cpu_subscribers_are_disjoint_and_add_up_to_the_union() {
    if !require_root("cpu_subscribers_are_disjoint_and_add_up_to_the_union") {
        return;
    }
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap();
    assert!(
        online.trim() != "0",
        "this test needs CPUs 0 and 1 online (online: {online})"
    );
    let dir = scratch("routing");
    let daemon = Daemon::start(&dir.join("s.sock"), &[]);
    let mut subs: Vec<RawClient> = ["0", "1", "0-1"]
        .iter()
        .map(|cpus| {
            let mut c = RawClient::connect(&daemon.socket);
            let reply = c.request(1, &format!("{{\"op\":\"register\",\"cpus\":\"{cpus}\"}}"));
            assert_eq!(reply["reply"], "registered", "{reply}");
            assert_eq!(reply["cpus"], *cpus);
            c
        })
        .collect();

    // Only builtins besides /bin/true: the shells fork nothing else.
    let script =
        format!("i=0; while [ $i -lt {CHILDREN_PER_SHELL} ]; do /bin/true; i=$((i+1)); done");
    let mut shells: Vec<_> = (0..2)
        .map(|_| Command::new("sh").args(["-c", &script]).spawn().unwrap())
        .collect();
    let shell_pids: BTreeSet<u64> = shells.iter().map(|s| u64::from(s.id())).collect();
    for s in &mut shells {
        assert!(s.wait().unwrap().success());
    }
    // Events are delivered in the order the kernel queued them: once a pinned marker's
    // exit has arrived, everything from the storm before it has too.
    let m0 = run_pinned(0, "/bin/true");
    let m1 = run_pinned(1, "/bin/true");
    wait_for("CPU 0's marker", || saw_exit(&subs[0].events(), m0));
    wait_for("CPU 1's marker", || saw_exit(&subs[1].events(), m1));
    wait_for("both markers on 0-1", || {
        let e = subs[2].events();
        saw_exit(&e, m0) && saw_exit(&e, m1)
    });

    let union = subs[2].events();
    let mut pids = shell_pids.clone();
    for e in &union {
        if e["event"] == "fork" && shell_pids.contains(&e["parent_tgid"].as_u64().unwrap()) {
            pids.insert(e["child_pid"].as_u64().unwrap());
        }
    }
    assert_eq!(
        pids.len() as u32,
        2 + 2 * CHILDREN_PER_SHELL,
        "the 0-1 subscriber saw every fork of the storm"
    );
    let lines: Vec<Vec<String>> = subs
        .iter_mut()
        .map(|s| s.lines.lock().unwrap().clone())
        .collect();
    let cpu0 = ours(&lines[0], &pids);
    let cpu1 = ours(&lines[1], &pids);
    let both = ours(&lines[2], &pids);
    for (set, cpu) in [(&cpu0, 0), (&cpu1, 1)] {
        assert!(!set.is_empty(), "the storm ran on CPU {cpu} too");
        for l in set {
            let v: Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["cpu"], cpu, "only CPU {cpu}'s events: {l}");
        }
    }
    assert!(
        cpu0.is_disjoint(&cpu1),
        "CPU 0 and CPU 1 subscribers overlap"
    );
    let added: BTreeSet<String> = cpu0.union(&cpu1).cloned().collect();
    let missing: Vec<_> = both.difference(&added).take(3).collect();
    let extra: Vec<_> = added.difference(&both).take(3).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "0 ∪ 1 ≠ 0-1: missing {missing:?}, extra {extra:?}"
    );
    // Every child forked, execed and exited: at least three events each.
    assert!(
        both.len() as u32 >= 3 * 2 * CHILDREN_PER_SHELL,
        "{}",
        both.len()
    );
    let (status, _) = daemon.terminate();
    assert!(status.success());
}
