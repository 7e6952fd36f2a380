//! Taskstats listeners against the real kernel: our children's exit records arrive with
//! their status, multi-threaded exits add a TGID record, bad cpulists are refused before
//! any socket opens, no registration outlives its socket, and forced losses are counted
//! exactly (sequence numbers and the socket's drop counter).
//!
//! Needs root (CAP_NET_ADMIN in the initial user namespace). Skipped without root unless
//! `CI` is set: in CI it runs and fails instead.

use std::collections::{BTreeSet, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use taskwatch_core::cpulist::CpuListError;
use taskwatch_kernel::cpus::Cpus;
use taskwatch_kernel::taskstats::{
    query, CpuSelection, Item, Listener, ListenerConfig, LossCause, PortId, QueryError, ShardStats,
    Target, TaskstatsError, TaskstatsSocket,
};
use taskwatch_wire::taskstats::{Aggregate, Message};

/// Hang guard only: no test asserts on time, but none may wait forever either.
const HANG_GUARD: Duration = Duration::from_secs(60);
/// Set in the environment of the multi-threaded helper (this binary run again).
const HELPER_ENV: &str = "TASKWATCH_TASKSTATS_HELPER";

/// Storms and port-id experiments run one at a time: a storm's exits would otherwise
/// crowd the other tests' CPUs.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// True when the test may run; when it may not, says why. In CI it must run.
fn require_root(test: &str) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1)?.parse::<u32>().ok())
        .unwrap_or(u32::MAX);
    if euid == 0 {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{test} needs root (taskstats registration needs CAP_NET_ADMIN) and CI runs as root"
        );
    }
    eprintln!("skipping {test}: needs root and CI is unset");
    false
}

/// The highest online CPU: where pinned workloads run.
fn test_cpu() -> u32 {
    Cpus::read().unwrap().online.last().unwrap()
}

fn one_cpu(cpu: u32) -> ListenerConfig {
    ListenerConfig {
        cpus: CpuSelection::List(cpu.to_string()),
        ..ListenerConfig::default()
    }
}

/// Runs `sh -c script` pinned to `cpu` and returns its pid (it exits on that CPU).
fn run_on(cpu: u32, script: &str) -> (u32, std::process::ExitStatus) {
    let mut child = Command::new("taskset")
        .args(["-c", &cpu.to_string(), "sh", "-c", script])
        .spawn()
        .expect("running taskset");
    let pid = child.id();
    (pid, child.wait().unwrap())
}

/// Receives until `found` returns true for an item, or the hang guard passes.
fn recv_until(
    listener: &Listener,
    all: &mut Vec<Item>,
    mut found: impl FnMut(&Item) -> bool,
) -> bool {
    let deadline = Instant::now() + HANG_GUARD;
    let mut checked = 0;
    while Instant::now() < deadline {
        listener.recv(Duration::from_millis(200), all);
        if all[checked..].iter().any(&mut found) {
            return true;
        }
        checked = all.len();
    }
    false
}

fn is_pid_record(item: &Item, pid: u32) -> bool {
    matches!(item, Item::Record { record, .. } if record.aggregate == Aggregate::Pid(pid))
}

/// Messages of `socket` until one holds a record of `pid`, within the hang guard.
fn socket_saw(socket: &mut TaskstatsSocket, pid: u32) -> bool {
    let deadline = Instant::now() + HANG_GUARD;
    while Instant::now() < deadline {
        let messages = match socket.recv(Duration::from_millis(200)) {
            Ok(m) => m,
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => continue,
            Err(e) => panic!("receiving: {e}"),
        };
        if stats_pids(&messages).contains(&pid) {
            return true;
        }
    }
    false
}

fn stats_pids(messages: &[Message]) -> Vec<u32> {
    messages
        .iter()
        .filter_map(|m| match m {
            Message::Stats { records, .. } => Some(records),
            _ => None,
        })
        .flatten()
        .filter_map(|r| match r.aggregate {
            Aggregate::Pid(pid) => Some(pid),
            Aggregate::Tgid(_) => None,
        })
        .collect()
}

/// Everything queued on `socket` now, without waiting; ENOBUFS retried.
fn drain_socket(socket: &mut TaskstatsSocket) -> Vec<Message> {
    let mut all = Vec::new();
    loop {
        match socket.recv(Duration::ZERO) {
            Ok(m) if m.is_empty() => return all,
            Ok(m) => all.extend(m),
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => continue,
            Err(e) => panic!("receiving: {e}"),
        }
    }
}

/// Binds `portid` once the socket that held it is released. A child forked by another
/// test thread holds a copy of every descriptor until it execs (close-on-exec), so a
/// closed socket can keep its port id a moment longer.
fn rebind(portid: u32) -> TaskstatsSocket {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        match TaskstatsSocket::open(PortId::Exact(portid)) {
            Ok(socket) => return socket,
            Err(TaskstatsError::Io { source, .. })
                if source.raw_os_error() == Some(libc::EADDRINUSE) && Instant::now() < deadline =>
            {
                std::thread::yield_now()
            }
            Err(e) => panic!("binding port id {portid:#x}: {e}"),
        }
    }
}

fn possible_list() -> String {
    Cpus::read().unwrap().possible.to_string()
}

#[test]
fn a_childs_exit_record_arrives_with_its_status_and_cpu() {
    if !require_root("a_childs_exit_record_arrives_with_its_status_and_cpu") {
        return;
    }
    let cpu = test_cpu();
    let listener = Listener::open(ListenerConfig::default()).unwrap();
    assert_eq!(
        listener.shards().len(),
        Cpus::read().unwrap().possible.len().min(64)
    );
    let (pid, status) = run_on(cpu, "exit 7");
    assert_eq!(status.code(), Some(7));
    let mut all = Vec::new();
    assert!(
        recv_until(&listener, &mut all, |i| is_pid_record(i, pid)),
        "no record for pid {pid}"
    );
    let (record_cpu, record) = all
        .iter()
        .find_map(|i| match i {
            Item::Record { cpu, record, .. } if record.aggregate == Aggregate::Pid(pid) => {
                Some((*cpu, record))
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(record.stats.ac_pid, pid);
    assert_eq!(record.stats.ac_exitcode, 7 << 8);
    assert_eq!(record.stats.comm(), b"sh");
    assert_eq!(record_cpu, Some(cpu), "one shard per CPU names the CPU");
    let mine = all.iter().filter(|i| is_pid_record(i, pid)).count();
    assert_eq!(mine, 1, "one record per exit");
    let stats = listener.stats();
    assert!(stats.iter().map(|s| s.records).sum::<u64>() >= 1);
    let shards = listener.shards().len();
    let closed = listener.close();
    assert_eq!(closed.stats.len(), shards);
}

/// Not a test: the multi-threaded workload, when this binary is run again with
/// `HELPER_ENV` set. A worker thread exits first, then the main thread, so the kernel
/// sends a TGID record with the last exit.
#[test]
fn tgid_helper() {
    if std::env::var_os(HELPER_ENV).is_none() {
        return;
    }
    std::thread::spawn(|| std::hint::black_box((0..1000u64).sum::<u64>()))
        .join()
        .unwrap();
    std::process::exit(3);
}

#[test]
fn a_multi_threaded_exit_adds_a_tgid_record() {
    if !require_root("a_multi_threaded_exit_adds_a_tgid_record") {
        return;
    }
    let listener = Listener::open(ListenerConfig::default()).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "tgid_helper", "--test-threads=1", "--quiet"])
        .env(HELPER_ENV, "1")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    assert_eq!(child.wait().unwrap().code(), Some(3));
    let mut all = Vec::new();
    let is_tgid = |i: &Item| matches!(i, Item::Record { record, .. } if record.aggregate == Aggregate::Tgid(pid));
    assert!(
        recv_until(&listener, &mut all, is_tgid),
        "no TGID record for {pid}"
    );
    // The TGID record follows the PID record of the last thread, with the same seq.
    let at = all.iter().position(is_tgid).unwrap();
    let Item::Record { seq, record, .. } = &all[at] else {
        unreachable!()
    };
    let Item::Record {
        seq: before_seq,
        record: before,
        ..
    } = &all[at - 1]
    else {
        panic!("the item before the TGID record is {:?}", all[at - 1]);
    };
    assert_eq!(before_seq, seq);
    assert!(matches!(before.aggregate, Aggregate::Pid(_)));
    assert_eq!(before.stats.ac_tgid, pid);
    assert_eq!(record.stats.ac_pid, 0, "a TGID record sums the group");
    assert!(record.stats.cpu_count >= before.stats.cpu_count);
    // The worker thread's own record came too; from another CPU's shard it may arrive
    // after the TGID record (shards are not ordered with each other).
    let is_worker = |i: &Item| {
        matches!(i, Item::Record { record, .. }
            if record.stats.ac_tgid == pid && record.aggregate != Aggregate::Pid(pid)
                && record.aggregate != Aggregate::Tgid(pid))
    };
    if !all.iter().any(is_worker) {
        assert!(
            recv_until(&listener, &mut all, is_worker),
            "no record of the worker thread"
        );
    }
    let threads: HashSet<u32> = all
        .iter()
        .filter_map(|i| match i {
            Item::Record { record, .. } if record.stats.ac_tgid == pid => match record.aggregate {
                Aggregate::Pid(tid) => Some(tid),
                Aggregate::Tgid(_) => None,
            },
            _ => None,
        })
        .collect();
    assert!(
        threads.len() >= 2,
        "records of the group's threads: {threads:?}"
    );
    assert!(threads.contains(&pid));
}

#[test]
fn bad_cpulists_are_refused_before_any_socket_opens() {
    // Runs without root too: nothing reaches the kernel.
    let cpus = Cpus::read().unwrap();
    let open = |list: String| {
        Listener::open(ListenerConfig {
            cpus: CpuSelection::List(list),
            ..ListenerConfig::default()
        })
    };
    let too_long = "0,".repeat(60 + 3 * cpus.nr_cpus_config as usize) + "0";
    type Expected = fn(&CpuListError) -> bool;
    let cases: Vec<(String, Expected)> = vec![
        (too_long, |e| matches!(e, CpuListError::TooLong { .. })),
        (format!("0-{}", cpus.nr_cpu_ids), |e| {
            matches!(e, CpuListError::OutOfRange { .. })
        }),
        ("0-1x".to_owned(), |e| {
            matches!(e, CpuListError::Garbage { .. })
        }),
        ("two".to_owned(), |e| {
            matches!(e, CpuListError::Garbage { .. })
        }),
        ("".to_owned(), |e| matches!(e, CpuListError::Empty)),
        (",".to_owned(), |e| matches!(e, CpuListError::Empty)),
    ];
    for (list, expected) in cases {
        match open(list.clone()) {
            Err(TaskstatsError::CpuList { list: got, source }) => {
                assert_eq!(got, list);
                assert!(expected(&source), "{list:?}: {source:?}");
                assert!(!source.to_string().is_empty());
            }
            Err(other) => panic!("{list:?}: expected a cpulist error, got {other}"),
            Ok(_) => panic!("{list:?} was accepted"),
        }
    }
    let zero = Listener::open(ListenerConfig {
        shards: Some(0),
        ..ListenerConfig::default()
    });
    assert!(matches!(zero, Err(TaskstatsError::Config(_))));
}

/// The kernel's side of the seed's "close fd without deregistration": a registration
/// outlives its socket until an exit on its CPU finds the port gone, and meanwhile a new
/// socket bound to the same port id, which registered nothing, receives the data.
///
/// The kernel's lazy cleanup can win (an exit of another process on that CPU between the
/// close and the new bind removes the entry), so the experiment is repeated until the
/// inheritance is seen; each attempt decides deterministically, because the watcher is
/// behind the stale entry in the CPU's listener list and gets each record after it.
#[test]
fn a_closed_sockets_registration_is_inherited_by_its_port_id() {
    if !require_root("a_closed_sockets_registration_is_inherited_by_its_port_id") {
        return;
    }
    let _serial = serial();
    let cpu = test_cpu();
    let mut watcher = TaskstatsSocket::open(PortId::Random).unwrap();
    watcher.register(&cpu.to_string()).unwrap();
    for cleaned_first in 0..20 {
        let mut first = TaskstatsSocket::open(PortId::Random).unwrap();
        let portid = first.portid();
        first.register(&cpu.to_string()).unwrap();
        first.close_without_deregistering();
        let mut heir = rebind(portid);
        assert_eq!(heir.portid(), portid);
        let (pid, _) = run_on(cpu, "exit 0");
        assert!(socket_saw(&mut watcher, pid), "the watcher missed {pid}");
        let inherited = stats_pids(&drain_socket(&mut heir)).contains(&pid);
        // The heir holds the port: remove the entry it inherited (or nothing).
        heir.deregister(&possible_list()).unwrap();
        if inherited {
            eprintln!(
                "port id {portid:#x}: registration inherited; the kernel's lazy cleanup won {cleaned_first} earlier attempts"
            );
            return;
        }
    }
    panic!("in 20 attempts the kernel always dropped the dead registration before the rebind");
}

/// What a shard does about it: deregistering every possible CPU before registering
/// removes a leftover on its port id.
#[test]
fn deregistering_every_cpu_first_clears_a_leftover() {
    if !require_root("deregistering_every_cpu_first_clears_a_leftover") {
        return;
    }
    let _serial = serial();
    let cpu = test_cpu();
    let mut watcher = TaskstatsSocket::open(PortId::Random).unwrap();
    watcher.register(&cpu.to_string()).unwrap();
    let mut first = TaskstatsSocket::open(PortId::Random).unwrap();
    let portid = first.portid();
    first.register(&cpu.to_string()).unwrap();
    first.close_without_deregistering();
    let mut heir = rebind(portid);
    heir.deregister(&possible_list()).unwrap();
    drain_socket(&mut heir);
    let (pid, _) = run_on(cpu, "exit 0");
    assert!(socket_saw(&mut watcher, pid));
    let got = stats_pids(&drain_socket(&mut heir));
    assert!(got.is_empty(), "the heir still received exits of {got:?}");
}

/// A listener, dropped or closed, leaves no registration behind: a socket bound to its
/// shard's port id afterwards receives nothing, while a watcher of the CPU sees the exit.
#[test]
fn a_dropped_or_closed_listener_leaves_no_registration() {
    if !require_root("a_dropped_or_closed_listener_leaves_no_registration") {
        return;
    }
    let _serial = serial();
    let cpu = test_cpu();
    let mut watcher = TaskstatsSocket::open(PortId::Random).unwrap();
    watcher.register(&cpu.to_string()).unwrap();
    for close in [false, true] {
        let listener = Listener::open(one_cpu(cpu)).unwrap();
        let portid = listener.shards()[0].portid;
        assert!(
            (portid as i32) < -4096,
            "shards never bind a pid-like port id"
        );
        if close {
            listener.close();
        } else {
            drop(listener);
        }
        let mut heir = rebind(portid);
        let (pid, _) = run_on(cpu, "exit 0");
        assert!(socket_saw(&mut watcher, pid));
        let got = stats_pids(&drain_socket(&mut heir));
        assert!(
            got.is_empty(),
            "close={close}: port {portid:#x} still received {got:?}"
        );
    }
}

/// Starts `n` short children of `sh` on `cpu` (all of `sh`'s CPUs when `None`) without
/// waiting between them; returns the pids of every task of the storm (the shell
/// included), once all have exited.
fn storm(cpu: Option<u32>, n: usize) -> Vec<u32> {
    let script =
        format!("i=0; while [ $i -lt {n} ]; do /bin/true & echo $!; i=$((i+1)); done; wait");
    let mut command = match cpu {
        Some(cpu) => {
            let mut c = Command::new("taskset");
            c.args(["-c", &cpu.to_string(), "sh", "-c", &script]);
            c
        }
        None => {
            let mut c = Command::new("sh");
            c.args(["-c", &script]);
            c
        }
    };
    let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
    let mut pids = vec![child.id()];
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        pids.push(line.unwrap().trim().parse().unwrap());
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(pids.len(), n + 1);
    pids
}

/// Runs sentinels (`exit 3` on `cpu`) until one's record arrives; returns its pid.
fn sentinel(listener: &Listener, all: &mut Vec<Item>, cpu: Option<u32>) -> u32 {
    let deadline = Instant::now() + HANG_GUARD;
    // Let a shard that waited for the consumer catch up first, so that the sentinel is
    // not dropped as well (if it is, it is counted lost and the next one is tried).
    for _ in 0..100 {
        if listener.recv(Duration::from_millis(50), all) == 0 {
            break;
        }
    }
    while Instant::now() < deadline {
        let pid = match cpu {
            Some(cpu) => run_on(cpu, "exit 3").0,
            None => {
                let mut c = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
                c.wait().unwrap();
                c.id()
            }
        };
        // A sentinel dropped by an overflow is itself counted lost: try another.
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            listener.recv(Duration::from_millis(200), all);
            if all.iter().any(|i| is_pid_record(i, pid)) {
                return pid;
            }
        }
    }
    panic!("no sentinel record within {HANG_GUARD:?}");
}

fn lost_sum(items: &[Item]) -> u64 {
    items
        .iter()
        .map(|i| match i {
            Item::Lost { count, .. } => *count,
            _ => 0,
        })
        .sum()
}

/// Checks, over the items of a one-CPU shard up to the sentinel's record, that every seq
/// from the first record's to the sentinel's was received or counted lost, exactly once.
/// Returns (first, last, received, lost).
fn assert_seq_identity(all: &[Item], sentinel: u32, stats: &ShardStats) -> (u32, u32, u64, u64) {
    let records: Vec<(u32, &Item)> = all
        .iter()
        .filter_map(|i| match i {
            Item::Record { seq, .. } => Some((*seq, i)),
            _ => None,
        })
        .collect();
    let first = records[0].0;
    let last = records
        .iter()
        .find(|(_, i)| is_pid_record(i, sentinel))
        .unwrap()
        .0;
    let span = last.wrapping_sub(first) as u64 + 1;
    let seqs: BTreeSet<u64> = records
        .iter()
        .map(|(s, _)| s.wrapping_sub(first) as u64)
        .filter(|&offset| offset < span)
        .collect();
    let lost = lost_sum(all);
    assert_eq!(stats.out_of_sequence, 0, "{stats:?}");
    assert_eq!(
        seqs.len() as u64 + lost,
        span,
        "seqs {first}..={last}: {} received + {lost} lost; {stats:?}",
        seqs.len()
    );
    assert!(all
        .iter()
        .all(|i| !matches!(i, Item::Lost { cause, .. } if *cause != LossCause::SequenceGap)));
    (first, last, seqs.len() as u64, lost)
}

/// A tiny receive buffer and a consumer that does not read while 2000 children exit on
/// one CPU: the shard's thread blocks on the full queue, the kernel drops, and every drop
/// is counted. The sequence numbers of the one-CPU shard make it exact: from the first
/// record received to the sentinel's, every seq is either a record received or counted
/// in a loss, and the drop counter agrees.
#[test]
fn forced_loss_on_a_one_cpu_shard_is_counted_exactly() {
    if !require_root("forced_loss_on_a_one_cpu_shard_is_counted_exactly") {
        return;
    }
    let _serial = serial();
    let cpu = test_cpu();
    let listener = Listener::open(ListenerConfig {
        rcvbuf_bytes: 4096,
        batch: 1,
        queue_batches: 1,
        ..one_cpu(cpu)
    })
    .unwrap();
    let mine = storm(Some(cpu), 2000);
    let mut all = Vec::new();
    let sentinel = sentinel(&listener, &mut all, Some(cpu));

    let stats = listener.stats()[0];
    let (first, last, received, lost) = assert_seq_identity(&all, sentinel, &stats);
    let span = last.wrapping_sub(first) as u64 + 1;
    assert!(lost > 0, "the storm overflowed nothing: {stats:?}");
    assert!(stats.enobufs > 0);
    let mine: HashSet<u32> = mine.into_iter().collect();
    let received_mine = all
        .iter()
        .filter(|i| matches!(i, Item::Record { record, .. } if matches!(record.aggregate, Aggregate::Pid(p) if mine.contains(&p))))
        .count() as u64;
    assert!(received_mine < mine.len() as u64);
    assert!(received_mine + lost >= mine.len() as u64);
    assert!(
        span >= mine.len() as u64,
        "all our exits lie between first and sentinel"
    );

    let closed = listener.close();
    let stats = closed.stats[0];
    let total_lost = lost + lost_sum(&closed.items);
    assert_eq!(stats.lost, total_lost);
    let seq = stats.seq.unwrap();
    assert_eq!(
        seq.received + seq.lost,
        seq.next.wrapping_sub(seq.first) as u64
    );
    // The kernel's own count: every datagram it dropped, less at most the two answers to
    // the closing deregistration, if an overflow took them.
    assert!(
        stats.kernel_drops >= stats.lost && stats.kernel_drops <= stats.lost + 2,
        "{stats:?}"
    );
    eprintln!(
        "one-CPU storm on CPU {cpu}: {} exits of ours, seqs {first}..={last} ({span}): {} received, {lost} lost before the sentinel; final {stats:?}",
        mine.len(),
        received
    );
}

/// The same storm on a shard of every CPU, whose sequence numbers interleave: the count
/// comes from the socket's drop counter, read when each overflow episode ends.
#[test]
fn forced_loss_on_a_multi_cpu_shard_comes_from_the_drop_counter() {
    if !require_root("forced_loss_on_a_multi_cpu_shard_comes_from_the_drop_counter") {
        return;
    }
    let _serial = serial();
    let listener = Listener::open(ListenerConfig {
        shards: Some(1),
        rcvbuf_bytes: 4096,
        batch: 1,
        queue_batches: 1,
        ..ListenerConfig::default()
    })
    .unwrap();
    assert_eq!(listener.shards().len(), 1);
    let mine = storm(None, 2000);
    let mut all = Vec::new();
    sentinel(&listener, &mut all, None);
    let closed = listener.close();
    all.extend(closed.items);
    let stats = closed.stats[0];
    let lost = lost_sum(&all);
    assert!(lost > 0, "{stats:?}");
    assert_eq!(stats.lost, lost);
    assert!(stats.seq.is_none());
    assert!(all.iter().all(|i| match i {
        Item::Record { cpu, .. } => cpu.is_none(),
        Item::Lost { cause, .. } => *cause == LossCause::SocketDrops,
        Item::ShardFailed { .. } => false,
    }));
    assert!(
        stats.kernel_drops >= stats.lost && stats.kernel_drops <= stats.lost + 2,
        "{stats:?}"
    );
    let mine: HashSet<u32> = mine.into_iter().collect();
    let received_mine = all.iter().filter(|i| matches!(i, Item::Record { record, .. } if matches!(record.aggregate, Aggregate::Pid(p) if mine.contains(&p)))).count() as u64;
    assert!(received_mine + lost >= mine.len() as u64);
    eprintln!(
        "multi-CPU storm: {} exits of ours, {received_mine} received, {lost} lost; {stats:?}",
        mine.len()
    );
}

#[test]
fn query_a_live_task_and_a_missing_one() {
    if !require_root("query_a_live_task_and_a_missing_one") {
        return;
    }
    let mut child = Command::new("sh")
        .args(["-c", "echo ready; read line"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Once it speaks it has exec'd: its comm is "sh", no longer ours.
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready");
    let stats = query(Target::Pid(pid)).unwrap();
    assert_eq!(stats.ac_pid, pid);
    assert_eq!(stats.comm(), b"sh");
    assert_eq!(stats.ac_ppid, std::process::id());
    let group = query(Target::Tgid(pid)).unwrap();
    assert!(group.version >= 1);
    drop(child.stdin.take());
    child.wait().unwrap();
    let gone = 0x7fff_fff0;
    match query(Target::Pid(gone)) {
        Err(QueryError::Gone(Target::Pid(p))) => assert_eq!(p, gone),
        other => panic!("expected Gone, got {other:?}"),
    }
    assert!(matches!(
        query(Target::Tgid(gone)),
        Err(QueryError::Gone(Target::Tgid(_)))
    ));
}

/// A receive slot shorter than the datagrams: every exit is truncated (`MSG_TRUNC`),
/// counted lost as such, and still takes its place in the CPU's sequence, so it is not
/// also counted as a gap.
#[test]
fn truncated_datagrams_are_counted_lost_not_as_gaps() {
    if !require_root("truncated_datagrams_are_counted_lost_not_as_gaps") {
        return;
    }
    let cpu = test_cpu();
    let listener = Listener::open(ListenerConfig {
        slot_bytes: 256,
        ..one_cpu(cpu)
    })
    .unwrap();
    let (_, status) = run_on(cpu, "exit 0");
    assert!(status.success());
    let mut all = Vec::new();
    assert!(recv_until(&listener, &mut all, |i| matches!(
        i,
        Item::Lost {
            cause: LossCause::Truncated,
            ..
        }
    )));
    let closed = listener.close();
    all.extend(closed.items);
    let stats = closed.stats[0];
    assert!(all.iter().all(|i| matches!(
        i,
        Item::Lost {
            count: 1,
            cause: LossCause::Truncated,
            ..
        }
    )));
    assert_eq!(stats.records, 0);
    assert!(stats.truncated >= 1);
    assert_eq!(stats.lost, stats.truncated, "{stats:?}");
    assert_eq!(stats.seq.unwrap().received, stats.truncated, "{stats:?}");
    assert_eq!(stats.seq.unwrap().lost, 0);
}

/// A consumer that reads, slowly, while a storm runs: overflow episodes come and go, and
/// each gap is counted where it is revealed. The sequence identity holds across all of
/// them.
#[test]
fn intermittent_loss_on_a_one_cpu_shard_is_counted_exactly() {
    if !require_root("intermittent_loss_on_a_one_cpu_shard_is_counted_exactly") {
        return;
    }
    let _serial = serial();
    let cpu = test_cpu();
    let listener = Listener::open(ListenerConfig {
        rcvbuf_bytes: 4096,
        batch: 1,
        queue_batches: 1,
        ..one_cpu(cpu)
    })
    .unwrap();
    let storm = std::thread::spawn(move || storm(Some(cpu), 2000));
    let mut all = Vec::new();
    while !storm.is_finished() {
        let mut got = Vec::new();
        listener.recv(Duration::from_millis(100), &mut got);
        // A slow consumer, not a synchronisation: the shard thread waits for room.
        std::thread::sleep(Duration::from_millis(1) * got.len() as u32);
        all.extend(got);
    }
    let mine = storm.join().unwrap();
    let sentinel = sentinel(&listener, &mut all, Some(cpu));
    let stats = listener.stats()[0];
    let (first, last, received, lost) = assert_seq_identity(&all, sentinel, &stats);
    let gaps = all
        .iter()
        .filter(|i| matches!(i, Item::Lost { .. }))
        .count();
    let closed = listener.close();
    let stats = closed.stats[0];
    assert_eq!(stats.lost, lost + lost_sum(&closed.items));
    assert!(
        stats.kernel_drops >= stats.lost && stats.kernel_drops <= stats.lost + 2,
        "{stats:?}"
    );
    eprintln!(
        "slow consumer on CPU {cpu}: {} exits of ours, seqs {first}..={last}: {received} received, {lost} lost in {gaps} gaps over {} overflow episodes; final {stats:?}",
        mine.len(),
        stats.enobufs
    );
}
