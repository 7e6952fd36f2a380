//! One pass over /proc for what isolation cares about in tasks: every kernel thread with
//! the CPUs it may run on, and whether irqbalance is running (it undoes IRQ moves).
//!
//! A task that exits mid-scan is skipped: a pid could disappear at any time.

use taskwatch_core::cpulist::{self, CpuSet};

use crate::procfs::Stat;

use super::tree::{Tree, Unreadable};

/// PF_NO_SETAFFINITY: the kernel manages the thread's CPUs (workqueue workers, per-CPU
/// threads); sched_setaffinity on it fails with EINVAL.
const PF_NO_SETAFFINITY: u32 = 0x0400_0000;

/// A kernel thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Kthread {
    pub(super) pid: u32,
    /// The Name: of /proc/PID/status (comm, or a kworker's full description).
    pub(super) comm: String,
    /// Cpus_allowed_list of /proc/PID/status.
    pub(super) allowed: CpuSet,
    /// Its affinity can be changed with taskset (no PF_NO_SETAFFINITY).
    pub(super) movable: bool,
}

/// What the scan found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Tasks {
    pub(super) kthreads: Vec<Kthread>,
    /// Pid of a running irqbalance daemon.
    pub(super) irqbalance: Option<u32>,
}

impl Tasks {
    pub(super) fn scan(tree: &Tree) -> Result<Tasks, Unreadable> {
        let mut tasks = Tasks::default();
        let Some(pids) = tree.numbered_entries("proc")? else {
            return Ok(tasks);
        };
        for pid in pids {
            let Ok(Some(text)) = tree.read(&format!("proc/{pid}/stat")) else {
                continue;
            };
            let Ok(stat) = Stat::parse(text.as_bytes()) else {
                continue;
            };
            let comm = String::from_utf8_lossy(stat.comm.as_bytes()).into_owned();
            if !stat.is_kernel_thread() {
                if comm == "irqbalance" {
                    tasks.irqbalance = Some(pid);
                }
                continue;
            }
            let Ok(Some(status)) = tree.read(&format!("proc/{pid}/status")) else {
                continue;
            };
            let Some(allowed) = cpus_allowed(&status) else {
                continue;
            };
            // Name: is the full name of a workqueue worker, comm only its first 15 bytes.
            let name = field(&status, "Name:").map_or(comm, str::to_owned);
            tasks.kthreads.push(Kthread {
                pid,
                comm: name,
                allowed,
                movable: stat.flags & PF_NO_SETAFFINITY == 0,
            });
        }
        Ok(tasks)
    }
}

/// The `Cpus_allowed_list:` line of /proc/PID/status.
fn cpus_allowed(status: &str) -> Option<CpuSet> {
    cpulist::parse(field(status, "Cpus_allowed_list:")?).ok()
}

/// The value of a /proc/PID/status line, trimmed.
fn field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpus_allowed_list() {
        let status = "Name:\tkthreadd\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\nMems:\t0\n";
        assert_eq!(cpus_allowed(status), cpulist::parse("0-1").ok());
        assert_eq!(cpus_allowed("Name:\tx\n"), None);
        assert_eq!(cpus_allowed("Cpus_allowed_list:\tjunk\n"), None);
    }
}
