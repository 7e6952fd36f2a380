//! The process table: every live task, kept current from events, bootstrapped and resynced
//! from /proc snapshots. Entries leave at exit, so memory follows the live task count.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use crate::exit_stats::ExitStats;
use crate::task::{Argv, Comm, Creds, Ids, Task, TaskSnapshot};

/// Deepest ancestry walked; guards against a cycle from stale parent links.
const MAX_ANCESTRY: usize = 256;

/// A /proc start time matches a table start time within this (clock ticks are 10 ms).
pub const START_TOLERANCE_NS: u64 = 30_000_000;

/// Hashes pids with one multiply: they are small, dense integers chosen by the kernel.
#[derive(Default, Clone, Copy)]
pub struct PidHasher(u64);

impl Hasher for PidHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type PidMap<V> = HashMap<u32, V, BuildHasherDefault<PidHasher>>;

/// What a resync changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ResyncChanges {
    /// Tasks found in /proc that the table lacked.
    pub added: Vec<Ids>,
    /// Tasks the table had that /proc no longer has (or whose pid was reused).
    pub removed: Vec<Task>,
}

/// The table.
#[derive(Debug, Default)]
pub struct ProcessTable {
    tasks: PidMap<Task>,
}

impl ProcessTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of tasks (threads included).
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// The task with this thread id.
    pub fn get(&self, pid: u32) -> Option<&Task> {
        self.tasks.get(&pid)
    }

    /// Every task, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Task> {
        self.tasks.values()
    }

    /// Loads tasks found at startup (flagged pre-existing); returns the ids added.
    pub fn bootstrap(&mut self, snapshots: Vec<TaskSnapshot>) -> Vec<Ids> {
        let added: Vec<Ids> = snapshots
            .iter()
            .map(|s| Ids {
                pid: s.pid,
                tgid: s.tgid,
            })
            .collect();
        for s in snapshots {
            self.tasks.insert(s.pid, Task::from_snapshot(s, true));
        }
        self.recount_children();
        added
    }

    /// Inserts (or replaces) one task.
    pub fn insert(&mut self, task: Task) {
        if !task.is_thread() {
            if let Some(parent) = self.tasks.get_mut(&task.ppid) {
                parent.children += 1;
            }
        }
        self.tasks.insert(task.pid, task);
    }

    /// Applies a fork: the child inherits names and credentials from the task that created
    /// it. `fallback` supplies a snapshot when that task is unknown. Returns the child.
    pub fn fork(
        &mut self,
        parent: Ids,
        child: Ids,
        ts_ns: u64,
        fallback: impl FnOnce() -> Option<TaskSnapshot>,
    ) -> &Task {
        let thread = child.pid != child.tgid;
        // A new thread copies its process; a new process copies the forking thread.
        let source = if thread { child.tgid } else { parent.pid };
        let task = match self
            .tasks
            .get(&source)
            .or_else(|| self.tasks.get(&parent.tgid))
        {
            Some(src) => Task {
                pid: child.pid,
                tgid: child.tgid,
                ppid: parent.tgid,
                start_ns: ts_ns,
                comm: src.comm,
                exe: src.exe.clone(),
                argv: src.argv.clone(),
                creds: src.creds,
                preexisting: false,
                exit_stats: None,
                children: 0,
            },
            None => match fallback() {
                Some(s) => Task {
                    start_ns: ts_ns,
                    ..Task::from_snapshot(s, false)
                },
                None => Task {
                    ppid: parent.tgid,
                    start_ns: ts_ns,
                    ..Task::unknown(child)
                },
            },
        };
        self.insert(task);
        &self.tasks[&child.pid]
    }

    /// Attaches the kernel's statistics at exit to the task.
    pub fn set_exit_stats(&mut self, pid: u32, stats: Arc<ExitStats>) {
        if let Some(t) = self.tasks.get_mut(&pid) {
            t.exit_stats = Some(stats);
        }
    }

    /// Records an exec: new exe, argv and comm (the basename, as the kernel sets it).
    pub fn exec(&mut self, task: Ids, exe: Option<Arc<str>>, argv: Option<Argv>) {
        if let Some(t) = self.tasks.get_mut(&task.pid) {
            if let Some(path) = &exe {
                t.comm = Comm::from_exec_path(path.as_bytes());
            }
            t.exe = exe;
            t.argv = argv;
        }
    }

    /// Records a comm change.
    pub fn set_comm(&mut self, task: Ids, comm: Comm) {
        if let Some(t) = self.tasks.get_mut(&task.pid) {
            t.comm = comm;
        }
    }

    /// Records a uid change.
    pub fn set_uid(&mut self, task: Ids, ruid: u32, euid: u32) {
        if let Some(t) = self.tasks.get_mut(&task.pid) {
            let c = t.creds.get_or_insert_with(Creds::default);
            c.ruid = ruid;
            c.euid = euid;
        }
    }

    /// Records a gid change.
    pub fn set_gid(&mut self, task: Ids, rgid: u32, egid: u32) {
        if let Some(t) = self.tasks.get_mut(&task.pid) {
            let c = t.creds.get_or_insert_with(Creds::default);
            c.rgid = rgid;
            c.egid = egid;
        }
    }

    /// Removes an exited task and returns it. When a process leaves, its live children
    /// are reparented to whatever `parent_of` reports (the kernel has done so already).
    pub fn remove(
        &mut self,
        pid: u32,
        mut parent_of: impl FnMut(u32) -> Option<u32>,
    ) -> Option<Task> {
        let task = self.tasks.remove(&pid)?;
        if task.is_thread() {
            return Some(task);
        }
        if let Some(parent) = self.tasks.get_mut(&task.ppid) {
            parent.children = parent.children.saturating_sub(1);
        }
        if task.children > 0 {
            let orphans: Vec<u32> = self
                .tasks
                .values()
                .filter(|t| t.ppid == task.tgid && !t.is_thread())
                .map(|t| t.pid)
                .collect();
            for orphan in orphans {
                let new_parent = parent_of(orphan).unwrap_or(1);
                self.reparent(orphan, new_parent);
            }
        }
        Some(task)
    }

    fn reparent(&mut self, pid: u32, new_ppid: u32) {
        let Some(t) = self.tasks.get_mut(&pid) else {
            return;
        };
        if t.ppid == new_ppid {
            return;
        }
        let old = std::mem::replace(&mut t.ppid, new_ppid);
        // Threads carry the process's ppid too.
        for t in self.tasks.values_mut().filter(|t| t.tgid == pid) {
            t.ppid = new_ppid;
        }
        if let Some(p) = self.tasks.get_mut(&old) {
            p.children = p.children.saturating_sub(1);
        }
        if let Some(p) = self.tasks.get_mut(&new_ppid) {
            p.children += 1;
        }
    }

    /// The parent process of `pid`, then its parent, up to the first unknown one.
    pub fn ancestors(&self, pid: u32) -> impl Iterator<Item = &Task> {
        let mut next = self.tasks.get(&pid).map(|t| t.ppid);
        let mut steps = 0;
        std::iter::from_fn(move || {
            let ppid = next.filter(|&p| p != 0)?;
            steps += 1;
            if steps > MAX_ANCESTRY {
                return None;
            }
            let parent = self.tasks.get(&ppid)?;
            next = Some(parent.ppid);
            Some(parent)
        })
    }

    /// True when `pid` is `ancestor` or descends from it.
    pub fn descends_from(&self, pid: u32, ancestor: u32) -> bool {
        let Some(t) = self.tasks.get(&pid) else {
            return false;
        };
        t.tgid == ancestor || self.ancestors(pid).any(|a| a.tgid == ancestor)
    }

    /// Makes the table agree with a fresh /proc snapshot after events were lost. Tasks whose
    /// pid now names a task started at another time count as removed and added.
    pub fn resync(&mut self, snapshots: Vec<TaskSnapshot>) -> ResyncChanges {
        let mut changes = ResyncChanges::default();
        let mut seen: PidMap<()> = PidMap::default();
        for s in snapshots {
            seen.insert(s.pid, ());
            match self.tasks.get_mut(&s.pid) {
                Some(t)
                    if t.start_ns.abs_diff(s.start_ns) <= START_TOLERANCE_NS || t.start_ns == 0 =>
                {
                    t.ppid = s.ppid;
                    t.comm = s.comm;
                    t.creds = s.creds.or(t.creds);
                    if s.exe.is_some() {
                        t.exe = s.exe;
                    }
                    if s.argv.is_some() {
                        t.argv = s.argv;
                    }
                    if t.start_ns == 0 {
                        t.start_ns = s.start_ns;
                    }
                }
                Some(_) => {
                    let ids = Ids {
                        pid: s.pid,
                        tgid: s.tgid,
                    };
                    let old = self.tasks.insert(s.pid, Task::from_snapshot(s, true));
                    changes.removed.extend(old);
                    changes.added.push(ids);
                }
                None => {
                    changes.added.push(Ids {
                        pid: s.pid,
                        tgid: s.tgid,
                    });
                    self.tasks.insert(s.pid, Task::from_snapshot(s, true));
                }
            }
        }
        let gone: Vec<u32> = self
            .tasks
            .keys()
            .copied()
            .filter(|p| !seen.contains_key(p))
            .collect();
        for pid in gone {
            changes.removed.extend(self.tasks.remove(&pid));
        }
        self.recount_children();
        changes
    }

    fn recount_children(&mut self) {
        let mut counts: PidMap<u32> = PidMap::default();
        for t in self.tasks.values().filter(|t| !t.is_thread()) {
            *counts.entry(t.ppid).or_default() += 1;
        }
        for t in self.tasks.values_mut() {
            t.children = counts.get(&t.pid).copied().unwrap_or(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(pid: u32, tgid: u32, ppid: u32, comm: &str) -> TaskSnapshot {
        TaskSnapshot {
            pid,
            tgid,
            ppid,
            start_ns: 1_000,
            comm: Comm::new(comm.as_bytes()),
            creds: Some(Creds {
                ruid: 1000,
                euid: 1000,
                rgid: 100,
                egid: 100,
            }),
            ..TaskSnapshot::default()
        }
    }

    fn ids(pid: u32, tgid: u32) -> Ids {
        Ids { pid, tgid }
    }

    fn table() -> ProcessTable {
        let mut t = ProcessTable::new();
        t.bootstrap(vec![
            snap(1, 1, 0, "init"),
            snap(100, 100, 1, "bash"),
            snap(101, 100, 1, "bash"),
        ]);
        t
    }

    #[test]
    fn fork_inherits_and_ancestry_walks() {
        let mut t = table();
        let child = t.fork(ids(100, 100), ids(200, 200), 5_000, || None).clone();
        assert_eq!(
            (child.ppid, child.comm.as_bytes(), child.start_ns),
            (100, &b"bash"[..], 5_000)
        );
        assert_eq!(child.creds.unwrap().ruid, 1000);
        assert!(!child.preexisting && t.get(100).unwrap().preexisting);
        t.exec(ids(200, 200), Some(Arc::from("/usr/bin/make")), None);
        assert_eq!(t.get(200).unwrap().comm.as_bytes(), b"make");
        let chain: Vec<u32> = t.ancestors(200).map(|a| a.pid).collect();
        assert_eq!(chain, vec![100, 1]);
        assert!(t.descends_from(200, 100) && !t.descends_from(100, 200));
    }

    #[test]
    fn thread_fork_copies_its_process() {
        let mut t = table();
        t.set_comm(ids(100, 100), Comm::new(b"renamed"));
        // The connector names the process's real parent (1) for a new thread of 100.
        let th = t.fork(ids(1, 1), ids(102, 100), 9, || None).clone();
        assert_eq!((th.ppid, th.comm.as_bytes()), (1, &b"renamed"[..]));
        assert!(th.is_thread());
    }

    #[test]
    fn unknown_parent_uses_the_fallback() {
        let mut t = ProcessTable::new();
        let got = t
            .fork(ids(7, 7), ids(8, 8), 42, || Some(snap(8, 8, 7, "late")))
            .clone();
        assert_eq!((got.comm.as_bytes(), got.start_ns), (&b"late"[..], 42));
        let got = t.fork(ids(7, 7), ids(9, 9), 43, || None).clone();
        assert_eq!((got.ppid, got.comm.is_empty()), (7, true));
    }

    #[test]
    fn exit_reparents_live_children() {
        let mut t = table();
        t.fork(ids(100, 100), ids(200, 200), 1, || None);
        t.fork(ids(200, 200), ids(300, 300), 2, || None);
        assert_eq!(t.get(200).unwrap().children, 1);
        let gone = t.remove(200, |pid| (pid == 300).then_some(1)).unwrap();
        assert_eq!(gone.pid, 200);
        assert_eq!(t.get(300).unwrap().ppid, 1);
        assert_eq!(t.get(100).unwrap().children, 0);
    }

    #[test]
    fn resync_adds_removes_and_detects_reuse() {
        let mut t = table();
        t.fork(ids(100, 100), ids(200, 200), 1, || None);
        let mut reused = snap(200, 200, 1, "other");
        reused.start_ns = 9_000_000_000;
        let changes = t.resync(vec![
            snap(1, 1, 0, "init"),
            snap(100, 100, 1, "bash"),
            reused,
            snap(400, 400, 100, "new"),
        ]);
        let mut added: Vec<u32> = changes.added.iter().map(|i| i.pid).collect();
        added.sort();
        let mut removed: Vec<u32> = changes.removed.iter().map(|t| t.pid).collect();
        removed.sort();
        assert_eq!(added, vec![200, 400]);
        assert_eq!(removed, vec![101, 200]);
        assert_eq!(t.get(200).unwrap().comm.as_bytes(), b"other");
        assert_eq!(t.get(100).unwrap().children, 1);
        assert_eq!(t.len(), 4);
    }

    #[test]
    fn ancestry_survives_a_cycle() {
        let mut t = ProcessTable::new();
        t.bootstrap(vec![snap(5, 5, 6, "a"), snap(6, 6, 5, "b")]);
        assert_eq!(t.ancestors(5).count(), MAX_ANCESTRY);
    }
}
