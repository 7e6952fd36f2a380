//! One line of `taskwatch exits`: a thread's statistics as the kernel sent them, or a
//! process's, summed over the thread records seen (the kernel sums only delays per process).

use std::collections::HashMap;

use taskwatch_wire::taskstats::{DelayClass, Taskstats};

use crate::exit_stats::ExitStats;
use crate::exit_status::ExitStatus;
use crate::task::Comm;

/// `ac_flag` bit: this record is the last thread of its process (the group is dead).
pub const AGROUP: u8 = 0x20;

/// Counters that add up over a process's threads.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    /// User CPU, µs.
    pub utime_us: u64,
    /// System CPU, µs.
    pub stime_us: u64,
    /// Minor faults.
    pub minflt: u64,
    /// Major faults.
    pub majflt: u64,
    /// Bytes read from storage.
    pub read_bytes: u64,
    /// Bytes written to storage.
    pub write_bytes: u64,
    /// Bytes read by syscalls (the kernel counts in KiB steps).
    pub read_char: u64,
    /// Bytes written by syscalls.
    pub write_char: u64,
    /// Voluntary context switches.
    pub nvcsw: u64,
    /// Involuntary context switches.
    pub nivcsw: u64,
    /// Peak resident set, KiB (a maximum, not a sum: threads share the mm).
    pub hiwater_rss_kb: u64,
    /// Peak virtual size, KiB.
    pub hiwater_vm_kb: u64,
}

impl Counters {
    /// One record's counters.
    pub fn of(t: &Taskstats) -> Self {
        Counters {
            utime_us: t.ac_utime,
            stime_us: t.ac_stime,
            minflt: t.ac_minflt,
            majflt: t.ac_majflt,
            read_bytes: t.read_bytes,
            write_bytes: t.write_bytes,
            read_char: t.read_char,
            write_char: t.write_char,
            nvcsw: t.nvcsw,
            nivcsw: t.nivcsw,
            hiwater_rss_kb: t.hiwater_rss,
            hiwater_vm_kb: t.hiwater_vm,
        }
    }

    fn add(&mut self, o: &Counters) {
        self.utime_us += o.utime_us;
        self.stime_us += o.stime_us;
        self.minflt += o.minflt;
        self.majflt += o.majflt;
        self.read_bytes += o.read_bytes;
        self.write_bytes += o.write_bytes;
        self.read_char += o.read_char;
        self.write_char += o.write_char;
        self.nvcsw += o.nvcsw;
        self.nivcsw += o.nivcsw;
        self.hiwater_rss_kb = self.hiwater_rss_kb.max(o.hiwater_rss_kb);
        self.hiwater_vm_kb = self.hiwater_vm_kb.max(o.hiwater_vm_kb);
    }
}

/// One delay class: count, total, and max/min where the kernel has them (v15+).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DelayLine {
    /// Delays counted.
    pub count: u64,
    /// Their total, ns.
    pub total_ns: u64,
    /// The longest, ns.
    pub max_ns: Option<u64>,
    /// The shortest, ns.
    pub min_ns: Option<u64>,
}

impl DelayLine {
    /// Mean delay, ns (0 when none was counted).
    pub fn mean_ns(&self) -> u64 {
        self.total_ns.checked_div(self.count).unwrap_or(0)
    }
}

/// What one `exits` line shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitRecord {
    /// The thread (or, for a process line, the process id).
    pub pid: u32,
    /// Its process.
    pub tgid: u32,
    /// The parent process.
    pub ppid: u32,
    /// Real uid and gid at exit.
    pub uid: u32,
    /// Real gid.
    pub gid: u32,
    /// Command name (the kernel's, up to 15 bytes).
    pub comm: Comm,
    /// How it ended (`None` for a live task queried with `taskwatch stat`).
    pub status: Option<ExitStatus>,
    /// Start, seconds since the epoch (the kernel's `ac_btime`).
    pub btime: u32,
    /// From start to exit, µs.
    pub elapsed_us: u64,
    /// The counters (summed over threads for a process line).
    pub counters: Counters,
    /// Each delay class the kernel's struct version has.
    pub delays: Vec<(DelayClass, DelayLine)>,
    /// The struct version the kernel sent.
    pub version: u16,
}

fn delays_of(t: &Taskstats) -> Vec<(DelayClass, DelayLine)> {
    DelayClass::ALL
        .iter()
        .filter_map(|&c| {
            t.delay(c).map(|d| {
                (
                    c,
                    DelayLine {
                        count: d.count,
                        total_ns: d.total_ns,
                        max_ns: d.max_ns,
                        min_ns: d.min_ns,
                    },
                )
            })
        })
        .collect()
}

impl ExitRecord {
    /// A thread's own line.
    pub fn thread(stats: &ExitStats, status: Option<ExitStatus>) -> Self {
        let t = &stats.task;
        ExitRecord {
            pid: t.ac_pid,
            tgid: t.ac_tgid,
            ppid: t.ac_ppid,
            uid: t.ac_uid,
            gid: t.ac_gid,
            comm: Comm::new(t.comm()),
            status,
            btime: t.ac_btime,
            elapsed_us: t.ac_etime,
            counters: Counters::of(t),
            delays: delays_of(t),
            version: t.version,
        }
    }
}

struct Partial {
    counters: Counters,
    /// Earliest thread start seen, as (exit ts - elapsed), monotonic ns.
    start_ns: u64,
    btime: u32,
}

/// Sums thread records per process until the process's last thread exits.
#[derive(Default)]
pub struct ProcessTotals {
    partial: HashMap<u32, Partial>,
}

impl ProcessTotals {
    /// Takes one thread's exit (at monotonic `ts_ns`). Returns the process's line when this
    /// was its last thread (`AGROUP`), else `None`.
    pub fn add(&mut self, stats: &ExitStats, status: ExitStatus, ts_ns: u64) -> Option<ExitRecord> {
        let t = &stats.task;
        let start_ns = ts_ns.saturating_sub(t.ac_etime.saturating_mul(1000));
        let mut part = self.partial.remove(&t.ac_tgid).unwrap_or(Partial {
            counters: Counters::default(),
            start_ns,
            btime: t.ac_btime,
        });
        part.counters.add(&Counters::of(t));
        if start_ns < part.start_ns {
            (part.start_ns, part.btime) = (start_ns, t.ac_btime);
        }
        if t.ac_flag & AGROUP == 0 {
            self.partial.insert(t.ac_tgid, part);
            return None;
        }
        let mut line = ExitRecord::thread(stats, Some(status));
        line.pid = t.ac_tgid;
        line.counters = part.counters;
        line.btime = part.btime;
        line.elapsed_us = ts_ns.saturating_sub(part.start_ns) / 1000;
        // The kernel's per-process record (6.x) sums delays, CPU times, context switches
        // and elapsed time over every thread, including those that exited before we
        // listened: where it has a figure, it is the better one.
        if let Some(p) = &stats.process {
            line.delays = delays_of(p);
            let c = &mut line.counters;
            c.utime_us = c.utime_us.max(p.ac_utime);
            c.stime_us = c.stime_us.max(p.ac_stime);
            c.nvcsw = c.nvcsw.max(p.nvcsw);
            c.nivcsw = c.nivcsw.max(p.nivcsw);
            if p.ac_etime != 0 {
                line.elapsed_us = p.ac_etime;
            }
        }
        Some(line)
    }

    /// Processes with threads seen but not yet ended.
    pub fn pending(&self) -> usize {
        self.partial.len()
    }
}
