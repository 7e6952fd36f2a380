//! What a client may send: bad cpulists refused with a clear message (by `watch --connect`
//! before connecting, and by the daemon), malformed and oversized requests answered with
//! an error naming the problem while the connection stays usable; and a clean SIGTERM.

mod daemon_support;

use std::process::Command;

use daemon_support::*;

fn nr_cpu_ids() -> u32 {
    let possible = std::fs::read_to_string("/sys/devices/system/cpu/possible").unwrap();
    let last = possible.trim().rsplit(['-', ',']).next().unwrap();
    last.parse::<u32>().unwrap() + 1
}

#[test]
fn bad_cpulists_are_refused_by_watch_connect() {
    let too_big = nr_cpu_ids().to_string();
    let too_long = "0,".repeat(60_000);
    for (list, says) in [
        ("0-", "text ends early"),
        ("1-0", "backwards"),
        ("x", "garbage"),
        (too_big.as_str(), "out of range"),
        (too_long.as_str(), "the kernel accepts at most"),
        ("", "empty cpulist"),
    ] {
        // No daemon is needed: the list is checked before connecting.
        let out = Command::new(binary())
            .args([
                "watch",
                "--connect",
                "/nonexistent/taskwatch.sock",
                "--cpus",
                list,
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{list:.20}: {stderr}");
        assert!(
            stderr.starts_with("error: --cpus") && stderr.contains(says),
            "{list:.20}: {stderr}"
        );
    }
}

#[test]
fn requests_are_checked_and_the_connection_stays_usable() {
    if !require_root("requests_are_checked_and_the_connection_stays_usable") {
        return;
    }
    let dir = scratch("requests");
    let daemon = Daemon::start(&dir.join("s.sock"), &[]);
    let mut c = RawClient::connect(&daemon.socket);
    let hello = c.values()[0].clone();
    assert_eq!(hello["protocol"], 2);
    assert_eq!(hello["exit_stats"], true);
    assert_eq!(hello["sees"], "all");
    assert_eq!(hello["uid"], 0);
    let max = hello["limits"]["max_request_bytes"].as_u64().unwrap() as usize;

    let out_of_range = nr_cpu_ids();
    for (tag, body, code, says) in [
        (
            1,
            "{\"op\":\"register\",\"cpus\":\"0-\"",
            "bad_json",
            "not JSON",
        ),
        (2, "{\"op\":\"subscribe\"}", "unknown_op", "unknown op"),
        (
            3,
            "{\"op\":\"register\",\"cpu\":\"0\"}",
            "bad_field",
            "unknown field `cpu`",
        ),
        (
            4,
            &format!("{{\"op\":\"register\",\"cpus\":\"{out_of_range}\"}}"),
            "bad_cpulist",
            "out of range",
        ),
        (
            5,
            "{\"op\":\"register\",\"cpus\":\"3-1\"}",
            "bad_cpulist",
            "backwards",
        ),
        (
            6,
            "{\"op\":\"register\",\"cpus\":\"0\",\"events\":[\"teleport\"]}",
            "bad_event_kind",
            "teleport",
        ),
        (
            7,
            "{\"op\":\"deregister\",\"registration\":99}",
            "unknown_registration",
            "99",
        ),
        (
            8,
            "{\"op\":\"hello\",\"protocol\":3}",
            "unsupported_protocol",
            "speaks 1 to 2",
        ),
    ] {
        let line = format!("{{\"tag\":{tag},{}", body.trim_start_matches('{'));
        c.send(&line);
        let reply = if code == "bad_json" {
            // An unparseable line has no tag to echo.
            c.wait_line("the bad_json error", |v| v["code"] == "bad_json")
        } else {
            c.wait_line(&line, |v| v["tag"] == tag)
        };
        assert_eq!(reply["reply"], "error", "{line}: {reply}");
        assert_eq!(reply["code"], code, "{line}: {reply}");
        assert!(
            reply["message"].as_str().unwrap().contains(says),
            "{line}: {reply}"
        );
    }

    // An oversized request is skipped to its newline, never buffered whole.
    let huge = format!("{{\"op\":\"register\",\"cpus\":\"{}\"}}", "0,".repeat(max));
    c.send(&huge);
    let reply = c.wait_line("the too_long error", |v| v["code"] == "too_long");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains(&max.to_string()),
        "{reply}"
    );

    // Garbage bytes, an empty object, deep nesting: errors, no crash.
    c.send("\u{1}\u{2}\u{3}");
    c.send("{}");
    c.send(&"[".repeat(10_000));
    let refused = || c.values().iter().filter(|v| v["reply"] == "error").count();
    wait_for("three more errors", || refused() == 12);

    // Still usable: a registration works and events flow.
    let reply = c.request(
        20,
        "{\"op\":\"register\",\"cpus\":\"0\",\"events\":[\"exit\"]}",
    );
    assert_eq!(reply["reply"], "registered", "{reply}");
    assert_eq!(reply["events"], serde_json::json!(["exit"]));
    // Protocol 1 is still spoken.
    c.send("{\"op\":\"hello\",\"protocol\":1}");
    let hellos = || c.values().iter().filter(|v| v["reply"] == "hello").count();
    wait_for("a second hello", || hellos() == 2);
    let marker = run_pinned(0, "/bin/true");
    wait_for("the marker's exit", || saw_exit(&c.events(), marker));
    assert!(c
        .events()
        .iter()
        .all(|e| e["event"] == "exit" && e["cpu"] == 0));
    let id = reply["registration"].as_u64().unwrap();
    let reply = c.request(
        21,
        &format!("{{\"op\":\"deregister\",\"registration\":{id}}}"),
    );
    assert_eq!(reply["reply"], "deregistered", "{reply}");
    assert_eq!(daemon.metric("taskwatch_requests_refused_total"), 12.0);

    // The daemon kept only CAP_SYS_PTRACE (bit 19), in the bounding set too.
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.pid())).unwrap();
    for field in ["CapEff:", "CapPrm:", "CapBnd:"] {
        let line = status.lines().find(|l| l.starts_with(field)).unwrap();
        assert!(line.ends_with("0000000000080000"), "{line}");
    }

    // SIGTERM: the client is told, the daemon exits 0 and removes its socket.
    let (exit, stderr) = daemon.terminate();
    assert!(exit.success(), "{exit:?}\n{stderr}");
    let bye = c.wait_line("the shutdown notice", |v| v["reply"] == "shutdown");
    assert_eq!(bye["reason"], "daemon stopping");
    assert!(!dir.join("s.sock").exists());
}
