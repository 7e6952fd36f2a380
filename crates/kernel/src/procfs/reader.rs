//! `ProcReader`: reads one task's /proc files into a reused buffer and builds its snapshot.
//! Every answer may be stale at once; a task that exited (or is a zombie) is `Gone`.

use taskwatch_core::task::TaskSnapshot;

use super::clock::clock_ticks_per_sec;
use super::cmdline::parse_cmdline;
use super::error::ProcError;
use super::exe::exe_from_link;
use super::path::ProcPath;
use super::read::ReadBuf;
use super::stat::Stat;
use super::status::Status;

/// Reads /proc with one reusable buffer. Cheap to keep around; not shared between threads.
pub struct ProcReader {
    pub(super) buf: ReadBuf,
    pub(super) hz: u64,
}

impl Default for ProcReader {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for ProcReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcReader")
            .field("hz", &self.hz)
            .finish_non_exhaustive()
    }
}

impl ProcReader {
    /// A reader with a 4 KiB buffer (grown when a file needs more).
    pub fn new() -> Self {
        ProcReader {
            buf: ReadBuf::new(),
            hz: clock_ticks_per_sec(),
        }
    }

    /// Clock ticks per second used to convert start times.
    pub fn clock_ticks_per_sec(&self) -> u64 {
        self.hz
    }

    /// Reads /proc/`pid`/stat (`pid` may be a thread id). An exited task still answers
    /// here (state Z or X): check [`Stat::has_exited`].
    pub fn stat(&mut self, pid: u32) -> Result<Stat, ProcError> {
        self.parse_stat(&ProcPath::pid(pid, "stat"))
    }

    /// Reads /proc/`tgid`/task/`tid`/stat: `Gone` unless `tid` is (still) a thread of
    /// `tgid`, so one read checks both the thread group and the start time.
    pub fn task_stat(&mut self, tgid: u32, tid: u32) -> Result<Stat, ProcError> {
        self.parse_stat(&ProcPath::task(tgid, tid, "stat"))
    }

    /// Reads /proc/`pid`/status.
    pub fn status(&mut self, pid: u32) -> Result<Status, ProcError> {
        self.parse_status(&ProcPath::pid(pid, "status"))
    }

    /// The parent process of `pid` (one read of its stat).
    pub fn parent_of(&mut self, pid: u32) -> Result<u32, ProcError> {
        let stat = self.stat(pid)?;
        if stat.has_exited() {
            return Err(ProcError::Gone);
        }
        Ok(stat.ppid)
    }

    /// Snapshots one task (a process or a thread id): stat, status, exe and cmdline.
    /// `Gone` when it has exited, even while its thread group lives on.
    pub fn snapshot(&mut self, pid: u32) -> Result<TaskSnapshot, ProcError> {
        let stat = self.stat(pid)?;
        if stat.has_exited() {
            return Err(ProcError::Gone);
        }
        let status = self.status(pid)?;
        let (exe, argv) = if stat.is_kernel_thread() {
            (None, None)
        } else {
            self.exe_and_argv(&ProcPath::pid(pid, "exe"), &ProcPath::pid(pid, "cmdline"))
        };
        Ok(TaskSnapshot {
            pid,
            tgid: status.tgid,
            ppid: stat.ppid,
            start_ns: stat.start_ns(self.hz),
            comm: stat.comm,
            exe,
            argv,
            creds: Some(status.creds),
        })
    }

    pub(super) fn parse_stat(&mut self, path: &ProcPath) -> Result<Stat, ProcError> {
        let text = self.buf.read(path.as_path())?;
        if text.is_empty() {
            return Err(ProcError::Gone);
        }
        Ok(Stat::parse(text)?)
    }

    pub(super) fn parse_status(&mut self, path: &ProcPath) -> Result<Status, ProcError> {
        let text = self.buf.read(path.as_path())?;
        if text.is_empty() {
            return Err(ProcError::Gone);
        }
        Ok(Status::parse(text)?)
    }

    /// The exe link and command line at the given paths; each `None` when unreadable
    /// (gone, no mm, or not permitted).
    pub(super) fn exe_and_argv(
        &mut self,
        exe: &ProcPath,
        cmdline: &ProcPath,
    ) -> (
        Option<std::sync::Arc<str>>,
        Option<taskwatch_core::task::Argv>,
    ) {
        let exe = std::fs::read_link(exe.as_path())
            .ok()
            .map(|t| exe_from_link(t.as_os_str()));
        let argv = self
            .buf
            .read(cmdline.as_path())
            .ok()
            .and_then(parse_cmdline);
        (exe, argv)
    }
}
