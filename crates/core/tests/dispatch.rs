//! The dispatcher with watchers registered in one line in this test crate: every kind
//! reaches its table, deny kills through the probe, panics are caught, stop ends a chain.

use std::cell::RefCell;

use taskwatch_core::probe::{KillError, TaskProbe};
use taskwatch_core::{
    task_watcher, Comm, Ctx, Dispatcher, Event, EventKind, ExitStatus, Ids, Task, TaskSnapshot,
    Verdict,
};

thread_local! {
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn log(line: String) {
    LOG.with(|l| l.borrow_mut().push(line));
}

fn take_log() -> Vec<String> {
    LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

fn record(ctx: &Ctx<'_>) -> Verdict {
    log(format!(
        "{} {} {}",
        ctx.event.kind.kind().name(),
        ctx.task.pid,
        ctx.task.comm
    ));
    Verdict::Continue
}
task_watcher!(any, record);

fn deny_named(ctx: &Ctx<'_>) -> Verdict {
    if ctx.task.comm.as_bytes() == b"denyme" {
        Verdict::Deny
    } else {
        Verdict::Continue
    }
}
task_watcher!(init, deny_named);

fn panic_on_name(ctx: &Ctx<'_>) -> Verdict {
    if ctx.task.comm.as_bytes() == b"panicker" {
        panic!("boom from a watcher");
    }
    Verdict::Continue
}
task_watcher!(comm, panic_on_name);

fn stopper_a(ctx: &Ctx<'_>) -> Verdict {
    stop_if_named(ctx, "a")
}
fn stopper_b(ctx: &Ctx<'_>) -> Verdict {
    stop_if_named(ctx, "b")
}
fn stop_if_named(ctx: &Ctx<'_>, who: &str) -> Verdict {
    if ctx.task.comm.as_bytes() == b"stopper" {
        log(format!("stopper {who}"));
        return Verdict::Stop;
    }
    Verdict::Continue
}
task_watcher!(exec, stopper_a);
task_watcher!(exec, stopper_b);

fn sleepy(ctx: &Ctx<'_>) -> Verdict {
    if ctx.task.comm.as_bytes() == b"sleepy" {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    Verdict::Continue
}
task_watcher!(sid, sleepy);

fn free_says_stop(_ctx: &Ctx<'_>) -> Verdict {
    Verdict::Stop
}
task_watcher!(free, free_says_stop);

#[derive(Default)]
struct FakeProbe {
    tasks: Vec<TaskSnapshot>,
    killed: Vec<u32>,
}

impl TaskProbe for FakeProbe {
    fn snapshot_all(&mut self) -> Vec<TaskSnapshot> {
        self.tasks.clone()
    }
    fn snapshot(&mut self, pid: u32) -> Option<TaskSnapshot> {
        self.tasks.iter().find(|t| t.pid == pid).cloned()
    }
    fn parent_of(&mut self, _pid: u32) -> Option<u32> {
        Some(1)
    }
    fn kill(&mut self, task: &Task) -> Result<(), KillError> {
        self.killed.push(task.pid);
        Ok(())
    }
}

fn snap(pid: u32, ppid: u32, comm: &str) -> TaskSnapshot {
    TaskSnapshot {
        pid,
        tgid: pid,
        ppid,
        start_ns: 1,
        comm: Comm::new(comm.as_bytes()),
        ..TaskSnapshot::default()
    }
}

fn ids(pid: u32) -> Ids {
    Ids { pid, tgid: pid }
}

fn ev(ts_ns: u64, kind: EventKind) -> Event {
    Event {
        cpu: 0,
        ts_ns,
        kind,
    }
}

fn dispatcher() -> Dispatcher<FakeProbe> {
    let probe = FakeProbe {
        tasks: vec![snap(1, 0, "init"), snap(10, 1, "shell")],
        killed: vec![],
    };
    let mut d = Dispatcher::new(probe);
    d.bootstrap(0);
    take_log();
    d
}

#[test]
fn fork_exec_exit_reach_their_tables_with_the_task() {
    let mut d = dispatcher();
    d.dispatch(ev(
        5,
        EventKind::Fork {
            parent: ids(10),
            child: ids(11),
        },
    ));
    d.dispatch(ev(
        6,
        EventKind::Exec {
            task: ids(11),
            exe: Some("/bin/ls".into()),
            argv: None,
        },
    ));
    d.dispatch(ev(
        9,
        EventKind::Exit {
            task: ids(11),
            status: ExitStatus::from_wait_status(0),
            parent: ids(10),
            stats: None,
        },
    ));
    assert_eq!(
        take_log(),
        [
            "init 11 shell",
            "fork 11 shell",
            "exec 11 ls",
            "exit 11 ls",
            "free 11 ls"
        ]
    );
    assert!(
        d.table().get(11).is_none(),
        "an exited task leaves the table"
    );
}

#[test]
fn deny_kills_the_new_task_and_reports_it() {
    let mut d = dispatcher();
    d.dispatch(ev(
        5,
        EventKind::Comm {
            task: ids(10),
            comm: Comm::new(b"denyme"),
        },
    ));
    take_log();
    d.dispatch(ev(
        6,
        EventKind::Fork {
            parent: ids(10),
            child: ids(12),
        },
    ));
    assert_eq!(d.probe_mut().killed, vec![12]);
    let log = take_log();
    // Deny ends the init chain (the `any` watchers too) and skips the fork watchers.
    assert_eq!(log, ["denied 12 denyme"]);
    assert_eq!(d.stats().denied, 1);
}

#[test]
fn a_panicking_watcher_is_caught_and_named() {
    let mut d = dispatcher();
    d.dispatch(ev(
        5,
        EventKind::Comm {
            task: ids(10),
            comm: Comm::new(b"panicker"),
        },
    ));
    d.dispatch(ev(
        6,
        EventKind::Comm {
            task: ids(10),
            comm: Comm::new(b"panicker"),
        },
    ));
    let panics = &d.stats().panics;
    assert_eq!(panics.len(), 1);
    assert!(panics[0].0.ends_with("panic_on_name"), "{panics:?}");
    assert_eq!(panics[0].1, 2);
    // The others still ran for both events.
    assert_eq!(
        take_log()
            .iter()
            .filter(|l| l.starts_with("comm 10"))
            .count(),
        2
    );
}

#[test]
fn stop_ends_the_chain() {
    let mut d = dispatcher();
    d.dispatch(ev(
        5,
        EventKind::Comm {
            task: ids(10),
            comm: Comm::new(b"stopper"),
        },
    ));
    take_log();
    d.dispatch(ev(
        6,
        EventKind::Exec {
            task: ids(10),
            exe: None,
            argv: None,
        },
    ));
    let log = take_log();
    // Whichever stopper runs first ends the chain: the other is never called, nor `any`.
    assert_eq!(
        log.iter().filter(|l| l.starts_with("stopper")).count(),
        1,
        "{log:?}"
    );
    assert!(!log.iter().any(|l| l.starts_with("exec")), "{log:?}");
}

#[test]
fn lost_events_resync_the_table() {
    let mut d = dispatcher();
    d.probe_mut().tasks = vec![snap(1, 0, "init"), snap(20, 1, "newcomer")];
    d.dispatch(ev(
        7,
        EventKind::Lost {
            count: 3,
            source: taskwatch_core::LossSource::ProcConnector,
        },
    ));
    let log = take_log();
    assert_eq!(log, ["lost 0 ", "free 10 shell", "init 20 newcomer"]);
    assert_eq!(d.table().len(), 2);
}

#[test]
fn watcher_time_is_sampled_and_a_slow_watcher_shows() {
    let mut d = dispatcher();
    d.sample_watcher_times(4);
    d.dispatch(ev(
        5,
        EventKind::Comm {
            task: ids(10),
            comm: Comm::new(b"sleepy"),
        },
    ));
    for ts in 6..14 {
        d.dispatch(ev(ts, EventKind::Sid { task: ids(10) }));
    }
    let times = &d.stats().times;
    let sleepy = times
        .by_mean()
        .into_iter()
        .find(|t| t.name.ends_with("::sleepy"))
        .expect("the sid watcher was timed");
    // Nine events, one in four timed: the 1st, 5th and 9th; two of them were sids.
    assert_eq!(sleepy.calls, 2, "{sleepy:?}");
    // thread::sleep never returns early, so this bound cannot flake.
    assert!(sleepy.max_ns >= 2_000_000, "{sleepy:?}");
    assert!(sleepy.is_slow());
    let record = times
        .by_mean()
        .into_iter()
        .find(|t| t.name.ends_with("::record"))
        .expect("the any watcher was timed");
    assert_eq!(record.calls, 3, "every timed event calls the any watcher");
}
