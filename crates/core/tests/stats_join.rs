//! The exit/taskstats join: records are attached whichever arrives first, order is kept,
//! a missing record delays an exit by at most the wait, and unclaimed records expire.

use taskwatch_core::stats_join::StatsJoin;
use taskwatch_core::{Event, EventKind, ExitStatus, Ids};
use taskwatch_wire::taskstats::{Aggregate, Record, Taskstats};

const WAIT: u64 = 1_000;

fn record(aggregate: Aggregate, tgid: u32, utime: u64) -> Record {
    let mut stats = Taskstats::default();
    if let Aggregate::Pid(pid) = aggregate {
        stats.ac_pid = pid;
    }
    stats.ac_tgid = tgid;
    stats.ac_utime = utime;
    Record { aggregate, stats }
}

fn exit(pid: u32, tgid: u32, cpu: u32) -> Event {
    Event {
        cpu,
        ts_ns: 0,
        kind: EventKind::Exit {
            task: Ids { pid, tgid },
            status: ExitStatus::from_wait_status(7 << 8),
            parent: Ids { pid: 1, tgid: 1 },
            stats: None,
        },
    }
}

fn sid(pid: u32) -> Event {
    Event {
        cpu: 0,
        ts_ns: 0,
        kind: EventKind::Sid {
            task: Ids { pid, tgid: pid },
        },
    }
}

fn utime(ev: &Event) -> Option<u64> {
    match &ev.kind {
        EventKind::Exit { stats, .. } => stats.as_ref().map(|s| s.task.ac_utime),
        _ => None,
    }
}

fn all_cpus() -> StatsJoin {
    StatsJoin::new(WAIT, |_| true)
}

#[test]
fn a_record_read_first_is_attached_at_once() {
    let mut j = all_cpus();
    j.push_datagram([record(Aggregate::Pid(10), 10, 5)], Some(0), 0);
    j.push_event(exit(10, 10, 0), 1);
    let mut out = Vec::new();
    j.release(1, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(utime(&out[0]), Some(5));
    assert_eq!(j.stats().joined, 1);
}

#[test]
fn an_exit_read_first_waits_and_holds_what_follows_in_order() {
    let mut j = all_cpus();
    j.push_event(exit(10, 10, 0), 0);
    j.push_event(sid(11), 0);
    let mut out = Vec::new();
    j.release(10, &mut out);
    assert!(out.is_empty(), "the exit waits, and the sid behind it");
    assert_eq!(j.held(), 2);
    j.push_datagram([record(Aggregate::Pid(10), 10, 9)], Some(0), 20);
    j.release(20, &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(utime(&out[0]), Some(9));
    assert!(matches!(out[1].kind, EventKind::Sid { .. }));
}

#[test]
fn a_missing_record_delays_the_exit_by_at_most_the_wait() {
    let mut j = all_cpus();
    j.push_event(exit(10, 10, 0), 0);
    let mut out = Vec::new();
    j.release(WAIT - 1, &mut out);
    assert!(out.is_empty());
    j.release(WAIT, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(utime(&out[0]), None);
    assert_eq!(j.stats().missing, 1);
}

#[test]
fn exits_on_cpus_not_listened_to_do_not_wait() {
    let mut j = StatsJoin::new(WAIT, |cpu| cpu == 1);
    j.push_event(exit(10, 10, 0), 0);
    let mut out = Vec::new();
    j.release(0, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(j.stats().missing, 0);
}

#[test]
fn the_process_record_goes_to_the_last_thread_to_exit() {
    let mut j = all_cpus();
    // Thread 21 of process 20 exits last: its datagram carries PID 21 then TGID 20.
    j.push_datagram([record(Aggregate::Pid(22), 20, 1)], Some(0), 0);
    j.push_datagram(
        [
            record(Aggregate::Pid(21), 20, 2),
            record(Aggregate::Tgid(20), 20, 3),
        ],
        Some(0),
        1,
    );
    j.push_event(exit(22, 20, 0), 2);
    j.push_event(exit(21, 20, 0), 2);
    let mut out = Vec::new();
    j.release(2, &mut out);
    let process = |ev: &Event| match &ev.kind {
        EventKind::Exit { stats, .. } => {
            stats.as_ref().unwrap().process.as_ref().map(|p| p.ac_utime)
        }
        _ => None,
    };
    assert_eq!(process(&out[0]), None);
    assert_eq!(process(&out[1]), Some(3));
}

#[test]
fn a_process_record_after_its_thread_record_was_claimed_still_lands() {
    let mut j = all_cpus();
    // Exit 50 waits for its record; exit 30 joins at once but is held behind it.
    j.push_event(exit(50, 50, 0), 0);
    j.push_datagram([record(Aggregate::Pid(30), 30, 4)], Some(0), 1);
    j.push_event(exit(30, 30, 0), 1);
    // The process record for 30 comes after its thread record was claimed.
    j.push_datagram([record(Aggregate::Tgid(30), 30, 8)], Some(0), 2);
    j.push_datagram([record(Aggregate::Pid(50), 50, 1)], Some(0), 2);
    let mut out = Vec::new();
    j.release(2, &mut out);
    assert_eq!(out.len(), 2);
    match &out[1].kind {
        EventKind::Exit { stats, .. } => {
            let s = stats.as_ref().unwrap();
            assert_eq!(s.task.ac_utime, 4);
            assert_eq!(s.process.as_ref().map(|p| p.ac_utime), Some(8));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(j.stats().unclaimed, 0);
}

#[test]
fn unclaimed_records_expire_and_are_counted() {
    let mut j = all_cpus();
    j.push_datagram([record(Aggregate::Pid(40), 40, 1)], None, 0);
    let mut out = Vec::new();
    j.release(WAIT * 10, &mut out);
    assert_eq!(j.stats().unclaimed, 1);
    // The exit coming after expiry no longer finds it and waits out its own time.
    j.push_event(exit(40, 40, 0), WAIT * 10);
    j.release(WAIT * 11, &mut out);
    assert_eq!(utime(&out[0]), None);
}
