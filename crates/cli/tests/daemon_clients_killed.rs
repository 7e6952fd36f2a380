//! 100 `watch --connect` clients SIGKILLed mid-stream leave nothing behind in the daemon:
//! no subscriber, registration or queued byte (metrics), no file descriptor.

mod daemon_support;

use std::process::{Command, Stdio};

use daemon_support::*;

const CLIENTS: usize = 100;

#[test]
fn killed_clients_leave_no_fds_or_queues_behind() {
    if !require_root("killed_clients_leave_no_fds_or_queues_behind") {
        return;
    }
    let dir = scratch("killed");
    let daemon = Daemon::start(&dir.join("s.sock"), &[]);
    let baseline_fds = daemon.fd_count();
    // A storm for the whole test, so the clients are killed while events stream to them.
    let mut storm = Command::new("sh")
        .args(["-c", "while :; do /bin/true; done"])
        .spawn()
        .unwrap();
    let mut clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            Command::new(binary())
                .args(["watch", "--json", "--connect"])
                .arg(&daemon.socket)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    wait_for("every client registered", || {
        daemon.metric("taskwatch_registrations") == CLIENTS as f64
    });
    let out_before = daemon.metric("taskwatch_events_out_total{kind=\"exit\"}");
    wait_for("events streaming to the clients", || {
        daemon.metric("taskwatch_events_out_total{kind=\"exit\"}") > out_before
    });
    assert!(daemon.fd_count() >= baseline_fds + CLIENTS);
    for c in &mut clients {
        c.kill().unwrap();
    }
    for c in &mut clients {
        c.wait().unwrap();
    }
    wait_for("the daemon to drop every subscriber", || {
        daemon.metric("taskwatch_subscribers") == 0.0
    });
    assert_eq!(daemon.metric("taskwatch_registrations"), 0.0);
    assert_eq!(daemon.metric("taskwatch_queued_bytes"), 0.0);
    wait_for("the daemon's fds back to where they were", || {
        daemon.fd_count() == baseline_fds
    });
    storm.kill().unwrap();
    storm.wait().unwrap();
    let (status, stderr) = daemon.terminate();
    assert!(status.success(), "{stderr}");
}
