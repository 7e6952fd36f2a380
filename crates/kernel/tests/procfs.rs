//! The /proc reader and `ProcProbe` against the real /proc: our own process and threads,
//! spawned `sleep` children, and pidfd kills that must refuse a task that is not the same.

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use taskwatch_core::probe::{KillError, TaskProbe};
use taskwatch_core::task::{Creds, Task, TaskSnapshot};
use taskwatch_kernel::probe::ProcProbe;
use taskwatch_kernel::procfs::{
    clock_ticks_per_sec, read_cmdline, read_exe, ProcError, ProcReader,
};

fn id(flag: &str) -> u32 {
    let out = Command::new("id").arg(flag).output().expect("run id");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn which(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap();
    let found = std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap();
    std::fs::canonicalize(found).unwrap()
}

/// Spawns `sleep 30` and waits until its exec has finished.
///
/// std's spawn (vfork-style) returns once the child's new mm is installed, which is
/// before the kernel has put the arguments in it (and before the comm is set): for a
/// moment /proc/PID/cmdline reads empty. The proc connector's EXEC comes after that.
fn sleep30() -> Child {
    let child = Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("spawn sleep");
    let deadline = Instant::now() + Duration::from_secs(5);
    while read_cmdline(child.id()).is_none() {
        assert!(Instant::now() < deadline, "sleep never finished its exec");
        std::thread::sleep(Duration::from_micros(100));
    }
    child
}

fn args(s: &TaskSnapshot) -> Vec<String> {
    s.argv
        .as_ref()
        .unwrap()
        .args()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// The calling thread's id, from the /proc/thread-self link ("PID/task/TID").
fn gettid() -> u32 {
    let link = std::fs::read_link("/proc/thread-self").unwrap();
    link.file_name().unwrap().to_str().unwrap().parse().unwrap()
}

fn wait_until_zombie(reader: &mut ProcReader, pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while reader.stat(pid).unwrap().state != b'Z' {
        assert!(Instant::now() < deadline, "{pid} did not become a zombie");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn clock_ticks_match_getconf() {
    let out = Command::new("getconf").arg("CLK_TCK").output().unwrap();
    let hz: u64 = String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(clock_ticks_per_sec(), hz);
}

#[test]
fn snapshot_of_ourselves() {
    let me = std::process::id();
    let s = ProcReader::new().snapshot(me).unwrap();
    assert_eq!((s.pid, s.tgid), (me, me));
    assert_eq!(s.ppid, std::os::unix::process::parent_id());
    let creds = s.creds.unwrap();
    assert_eq!((creds.ruid, creds.euid), (id("-ru"), id("-u")));
    assert_eq!((creds.rgid, creds.egid), (id("-rg"), id("-g")));
    assert_eq!(creds.euid, std::fs::metadata("/proc/self").unwrap().uid());
    let exe = std::env::current_exe().unwrap();
    assert_eq!(Path::new(&**s.exe.as_ref().unwrap()), exe);
    assert_eq!(args(&s)[0], std::env::args().next().unwrap());
    assert!(s.start_ns > 0);
}

#[test]
fn snapshot_of_a_sleep_child_then_gone_once_reaped() {
    let mut reader = ProcReader::new();
    let mut child = sleep30();
    let pid = child.id();
    let s = reader.snapshot(pid).unwrap();
    assert_eq!(args(&s), ["sleep", "30"]);
    assert_eq!(Path::new(&**s.exe.as_ref().unwrap()), which("sleep"));
    assert_eq!((s.pid, s.tgid, s.ppid), (pid, pid, std::process::id()));
    assert_eq!(s.comm.as_bytes(), b"sleep");
    assert_eq!(read_cmdline(pid), s.argv);
    assert_eq!(read_exe(pid), s.exe);
    assert_eq!(reader.parent_of(pid).unwrap(), std::process::id());

    child.kill().unwrap();
    wait_until_zombie(&mut reader, pid);
    // A zombie has exited: gone, and its cmdline and exe are already unreadable.
    assert!(matches!(reader.snapshot(pid), Err(ProcError::Gone)));
    assert_eq!(read_cmdline(pid), None);
    assert_eq!(read_exe(pid), None);

    child.wait().unwrap();
    assert!(matches!(reader.snapshot(pid), Err(ProcError::Gone)));
    assert!(matches!(reader.stat(pid), Err(ProcError::Gone)));
    assert!(ProcProbe::new().snapshot(pid).is_none());
    assert_eq!(read_cmdline(pid), None);
    assert_eq!(read_exe(pid), None);
}

#[test]
fn snapshot_all_has_us_and_our_thread() {
    let me = std::process::id();
    let (tid_tx, tid_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        tid_tx.send(gettid()).unwrap();
        done_rx.recv().ok();
    });
    let tid = tid_rx.recv().unwrap();
    let all = ProcProbe::new().snapshot_all();
    let single = ProcReader::new().snapshot(tid);
    drop(done_tx);
    thread.join().unwrap();

    let us = all.iter().find(|s| s.pid == me).expect("our process");
    let ours = all.iter().find(|s| s.pid == tid).expect("our thread");
    assert_ne!(tid, me);
    assert_eq!((ours.tgid, ours.ppid), (me, us.ppid));
    assert_eq!(
        (&ours.exe, &ours.argv, ours.creds),
        (&us.exe, &us.argv, us.creds)
    );
    assert!(ours.start_ns >= us.start_ns);
    let single = single.unwrap();
    assert_eq!((single.pid, single.tgid, single.ppid), (tid, me, us.ppid));
    // Kernel threads are there too, with no exe or command line.
    let kthreadd = all.iter().find(|s| s.pid == 2).expect("kthreadd");
    assert_eq!(
        (&kthreadd.exe, &kthreadd.argv, kthreadd.ppid),
        (&None, &None, 0)
    );
    assert_eq!(kthreadd.creds, Some(Creds::default()));
    assert_eq!(ProcReader::new().snapshot(2).unwrap().creds, kthreadd.creds);
    // Every task appears once.
    let mut pids: Vec<u32> = all.iter().map(|s| s.pid).collect();
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(pids.len(), all.len());
}

#[test]
fn kill_refuses_a_task_that_is_not_the_same_then_kills_the_right_one() {
    let mut probe = ProcProbe::new();
    let mut child = sleep30();
    let pid = child.id();
    let task = Task::from_snapshot(probe.snapshot(pid).unwrap(), true);

    let changed = |f: &dyn Fn(&mut Task)| {
        let mut t = task.clone();
        f(&mut t);
        t
    };
    let later = changed(&|t| t.start_ns += 1_000_000_000);
    assert_eq!(probe.kill(&later), Err(KillError::Gone));
    let unknown = changed(&|t| t.start_ns = 0);
    assert_eq!(probe.kill(&unknown), Err(KillError::Gone));
    // Claimed to be a thread of ours: /proc/OURPID/task/PID does not exist.
    let wrong_group = changed(&|t| t.tgid = std::process::id());
    assert_eq!(probe.kill(&wrong_group), Err(KillError::Gone));
    assert!(
        child.try_wait().unwrap().is_none(),
        "refused kills must not signal"
    );

    // A fork event's timestamp lands a little after /proc's truncated start time.
    let forked = changed(&|t| {
        t.start_ns += 7_000_000;
        t.preexisting = false;
    });
    probe.kill(&forked).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert_eq!(probe.kill(&task), Err(KillError::Gone));
}

/// Not a test on its own: with TASKWATCH_THREAD_HELPER set, this test binary becomes a
/// multi-threaded child for `kill_through_a_thread_kills_its_process`.
#[test]
fn thread_helper() {
    if std::env::var_os("TASKWATCH_THREAD_HELPER").is_none() {
        return;
    }
    std::thread::spawn(|| std::thread::sleep(Duration::from_secs(30)));
    std::thread::sleep(Duration::from_secs(30));
}

#[test]
fn kill_through_a_thread_kills_its_process() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "thread_helper", "--test-threads=1"])
        .env("TASKWATCH_THREAD_HELPER", "1")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut probe = ProcProbe::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    let thread = loop {
        let found = probe
            .snapshot_all()
            .into_iter()
            .find(|s| s.tgid == pid && s.pid != pid);
        if let Some(t) = found {
            break t;
        }
        assert!(
            Instant::now() < deadline,
            "the helper never started a thread"
        );
        std::thread::sleep(Duration::from_millis(1));
    };
    let task = Task::from_snapshot(thread, true);
    assert!(task.is_thread());
    probe.kill(&task).unwrap();
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGKILL));
}

#[test]
fn full_scan_timing() {
    let mut reader = ProcReader::new();
    let mut out = Vec::new();
    reader.snapshot_all_into(&mut out).unwrap(); // warm the dentry cache
    let runs = 20;
    let start = Instant::now();
    for _ in 0..runs {
        out.clear();
        reader.snapshot_all_into(&mut out).unwrap();
    }
    let per_scan = start.elapsed() / runs;
    let threads = out.iter().filter(|s| s.pid != s.tgid).count();
    eprintln!(
        "full /proc scan: {} tasks ({threads} threads) in {per_scan:?}",
        out.len()
    );
    assert!(!out.is_empty());
}
