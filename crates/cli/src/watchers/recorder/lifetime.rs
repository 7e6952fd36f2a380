//! Turns what the process table and the exit event know into the store's plain records:
//! a `Lifetime` for a task, and `TaskStats` from an exit line's counters and delays.

use taskwatch_core::exit_record::ExitRecord;
use taskwatch_core::task::{Argv, Comm, Task};
use taskwatch_core::ExitStatus;
use taskwatch_store::{Change, Delay, Lifetime, TaskStats};

/// What the recorder remembers of a task from the moment it entered the table.
#[derive(Debug, Clone, Default)]
pub struct Birth {
    /// The parent when it was created.
    pub ppid: u32,
    /// Real uid and gid then.
    pub uid: u32,
    pub gid: u32,
    /// The last credentials, session and tracer seen, for the `old` side of a change.
    pub ruid: u32,
    pub euid: u32,
    pub rgid: u32,
    pub egid: u32,
    pub tracer: u32,
    pub comm: Comm,
    /// Changes during its life, oldest first.
    pub changes: Vec<Change>,
}

impl Birth {
    /// The task as the table has it when it appears.
    pub fn of(task: &Task) -> Self {
        let creds = task.creds.unwrap_or_default();
        Birth {
            ppid: task.ppid,
            uid: creds.ruid,
            gid: creds.rgid,
            ruid: creds.ruid,
            euid: creds.euid,
            rgid: creds.rgid,
            egid: creds.egid,
            tracer: 0,
            comm: task.comm,
            changes: Vec::new(),
        }
    }
}

/// The lifetime of `task`, ended at `end_ns` (wall clock) with `status`. `start_ns` is
/// its fork (or first sighting) on the wall clock.
pub fn lifetime(
    task: &Task,
    birth: Birth,
    status: ExitStatus,
    start_ns: i64,
    end_ns: i64,
) -> Lifetime {
    let end_creds = task.creds.unwrap_or_default();
    let known_creds = task.creds.is_some();
    Lifetime {
        pid: task.pid,
        tgid: task.tgid,
        ppid: birth.ppid,
        is_thread: task.is_thread(),
        uid_start: birth.uid,
        gid_start: birth.gid,
        uid_end: if known_creds {
            end_creds.ruid
        } else {
            birth.ruid
        },
        gid_end: if known_creds {
            end_creds.rgid
        } else {
            birth.rgid
        },
        start_ns,
        end_ns,
        comm: task.comm.to_string(),
        exe: task.exe.as_deref().map(str::to_owned),
        argv: task.argv.as_ref().map(argv_strings),
        exit_code: status.code().map(i32::from),
        signal: status.signal().map(i32::from),
        core_dumped: status.core_dumped(),
        stats: None,
        changes: birth.changes,
    }
}

fn argv_strings(argv: &Argv) -> Vec<String> {
    argv.args()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// The statistics of an exit line (a thread's, or a process's summed over its threads).
pub fn task_stats(line: &ExitRecord) -> TaskStats {
    let c = &line.counters;
    TaskStats {
        utime_us: c.utime_us,
        stime_us: c.stime_us,
        minflt: c.minflt,
        majflt: c.majflt,
        hiwater_rss_kb: c.hiwater_rss_kb,
        hiwater_vm_kb: c.hiwater_vm_kb,
        read_bytes: c.read_bytes,
        write_bytes: c.write_bytes,
        nvcsw: c.nvcsw,
        nivcsw: c.nivcsw,
        delays: line
            .delays
            .iter()
            .map(|(class, d)| {
                let delay = Delay {
                    count: d.count,
                    total_ns: d.total_ns,
                };
                (class.name().to_owned(), delay)
            })
            .collect(),
    }
}
