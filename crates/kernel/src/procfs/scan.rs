//! The all-task scan: every process in /proc and every thread under /proc/PID/task,
//! for startup and for resync after event loss; tasks vanishing mid-scan are skipped.

use std::fs;
use std::sync::Arc;

use taskwatch_core::task::{Argv, Creds, TaskSnapshot};

use super::error::ProcError;
use super::path::ProcPath;
use super::reader::ProcReader;
use super::stat::Stat;

/// What a thread group's tasks share: read once per process.
struct Shared {
    tgid: u32,
    ppid: u32,
    creds: Option<Creds>,
    exe: Option<Arc<str>>,
    argv: Option<Argv>,
    /// Exe and argv still to be read (from the first live thread when the leader exited).
    pending: bool,
}

impl ProcReader {
    /// Snapshots every task, threads included. Tasks that exit during the scan are left
    /// out; tasks that cannot be read (permission, malformed) are left out and logged.
    /// Fails only when /proc itself cannot be listed.
    ///
    /// Per process: stat, and for user processes status, the exe link and cmdline; the
    /// task directory is listed only when stat counts more than one thread, and each
    /// other thread costs one stat read. A thread's exe, argv and creds are its
    /// process's. A zombie leader is left out (its exit was already reported) but its
    /// live threads are kept.
    pub fn snapshot_all(&mut self) -> Result<Vec<TaskSnapshot>, ProcError> {
        let mut out = Vec::with_capacity(512);
        self.snapshot_all_into(&mut out)?;
        Ok(out)
    }

    /// [`ProcReader::snapshot_all`] appending to `out`, so a resync can reuse its vector.
    pub fn snapshot_all_into(&mut self, out: &mut Vec<TaskSnapshot>) -> Result<(), ProcError> {
        for entry in fs::read_dir("/proc")? {
            let Ok(entry) = entry else { continue };
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if let Err(e) = self.scan_process(pid, out) {
                skipped(pid, &e);
            }
        }
        Ok(())
    }

    fn scan_process(&mut self, pid: u32, out: &mut Vec<TaskSnapshot>) -> Result<(), ProcError> {
        let leader = self.stat(pid)?;
        if leader.has_exited() && leader.num_threads <= 1 {
            return Ok(());
        }
        let creds = if leader.is_kernel_thread() {
            // Kernel threads run with init_cred (uid and gid 0): status is not read.
            Creds::default()
        } else {
            self.status(pid)?.creds
        };
        let mut shared = Shared {
            tgid: pid,
            ppid: leader.ppid,
            creds: Some(creds),
            exe: None,
            argv: None,
            pending: !leader.is_kernel_thread(),
        };
        if !leader.has_exited() {
            self.fill_shared(&mut shared, pid);
            out.push(self.task_snapshot(pid, &leader, &shared));
        }
        if leader.num_threads > 1 {
            self.scan_threads(&mut shared, out)?;
        }
        Ok(())
    }

    fn scan_threads(
        &mut self,
        shared: &mut Shared,
        out: &mut Vec<TaskSnapshot>,
    ) -> Result<(), ProcError> {
        let pid = shared.tgid;
        for entry in fs::read_dir(ProcPath::pid(pid, "task").as_path())? {
            let Ok(entry) = entry else { continue };
            let Some(tid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if tid == pid {
                continue;
            }
            match self.task_stat(pid, tid) {
                Ok(stat) if !stat.has_exited() => {
                    self.fill_shared(shared, tid);
                    out.push(self.task_snapshot(tid, &stat, shared));
                }
                Ok(_) => {}
                Err(e) => skipped(tid, &e),
            }
        }
        Ok(())
    }

    /// Reads the process's exe and argv through task `tid` if not done yet.
    fn fill_shared(&mut self, shared: &mut Shared, tid: u32) {
        if !shared.pending {
            return;
        }
        let (exe, cmdline) = if tid == shared.tgid {
            (ProcPath::pid(tid, "exe"), ProcPath::pid(tid, "cmdline"))
        } else {
            (
                ProcPath::task(shared.tgid, tid, "exe"),
                ProcPath::task(shared.tgid, tid, "cmdline"),
            )
        };
        (shared.exe, shared.argv) = self.exe_and_argv(&exe, &cmdline);
        shared.pending = false;
    }

    fn task_snapshot(&self, pid: u32, stat: &Stat, shared: &Shared) -> TaskSnapshot {
        TaskSnapshot {
            pid,
            tgid: shared.tgid,
            ppid: shared.ppid,
            start_ns: stat.start_ns(self.hz),
            comm: stat.comm,
            exe: shared.exe.clone(),
            argv: shared.argv.clone(),
            creds: shared.creds,
        }
    }
}

fn skipped(pid: u32, e: &ProcError) {
    match e {
        ProcError::Gone => {}
        ProcError::PermissionDenied => tracing::debug!(pid, "/proc scan: permission denied"),
        e => tracing::warn!(pid, error = %e, "/proc scan: task skipped"),
    }
}
