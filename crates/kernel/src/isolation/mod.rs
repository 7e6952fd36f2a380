//! CPU isolation: whether a CPU is fit for a latency-critical program, read from /sys and /proc.
//! Each check names what it found and the fix.
//!
//! [`check_cpu`] reads only; it changes nothing. A missing file means the feature is
//! absent from this kernel and is judged as such, never an error; a file that exists but
//! cannot be read makes its check a warning that says so.
//!
//! # How checks are judged
//!
//! The rule is the task isolation series': a latency-critical task gets one CPU to itself,
//! and the kernel stays off it. So:
//!
//! - **Fail** is what makes isolation impossible or guarantees regular interruption:
//!   the CPU does not exist, is offline or is the only one online (`cpu`); the
//!   scheduler tick keeps running because the CPU is not nohz_full (`nohz_full`: the
//!   series refuses such a CPU); a movable device IRQ is delivered to it now
//!   (`irq_affinity`: it will fire there, and one write fixes it).
//! - **Warn** is a known, bounded source of disturbance, or something that could not be
//!   verified: everything else that is not set up the way tuned's cpu-partitioning
//!   profile sets it, IRQs that are merely allowed on the CPU or cannot be moved,
//!   roaming kernel threads, an SMT sibling in use, a paravirtual or slow clocksource,
//!   steal time (a virtual CPU).
//! - **Pass** means set up for isolation, or not applicable (a feature whose absence
//!   disturbs nothing, like a kernel without the NMI watchdog).
//!
//! [`Report::suitable`] is true when nothing failed.
//!
//! # Checks, in report order
//!
//! | name | looks at | fails / warns when |
//! |---|---|---|
//! | `cpu` | /sys/devices/system/cpu/{possible,present,online} | missing, offline, or the last online CPU (fail) |
//! | `nohz_full` | /sys/devices/system/cpu/nohz_full | the CPU is not in it, or the file is absent (fail) |
//! | `isolcpus` | /sys/devices/system/cpu/isolated | not isolated from load balancing, unless a partition holds it |
//! | `cpuset_partition` | cgroup v2 `cpuset.cpus.partition` under the cgroup2 mounts | no isolated partition holds it, unless isolcpus does |
//! | `rcu_nocbs` | `rcu_nocbs=` in /proc/cmdline, or nohz_full | RCU callbacks run on the CPU |
//! | `irq_affinity` | /proc/irq/N/{smp,effective}_affinity_list, /proc/interrupts | a movable IRQ is routed there (fail); IRQs allowed there or unmovable |
//! | `default_smp_affinity` | /proc/irq/default_smp_affinity | new IRQs may land on the CPU |
//! | `workqueue_cpumask` | /sys/devices/virtual/workqueue/cpumask | unbound work may run on the CPU |
//! | `kthreads` | /proc/PID/stat flags (PF_KTHREAD) and status Cpus_allowed_list | kernel threads not bound to one CPU may run there |
//! | `watchdog` | kernel.watchdog, soft_watchdog, watchdog_cpumask | the soft lockup timer fires there |
//! | `nmi_watchdog` | kernel.nmi_watchdog | the hard lockup NMI fires there |
//! | `vm_stat_interval` | vm.stat_interval | below 10 seconds |
//! | `timer_migration` | kernel.timer_migration | not 0 |
//! | `smt_sibling` | /sys/devices/system/cpu/cpuN/topology/thread_siblings_list | a sibling hyperthread is online |
//! | `clocksource` | /sys/devices/system/clocksource/clocksource0 | not tsc, arch_sys_counter or timebase |
//! | `steal_time` | the CPU's steal column in /proc/stat | above 0: a virtual CPU |
//!
//! When the CPU does not exist the report holds the `cpu` check alone.

mod cmdline;
mod context;
mod cpu;
mod hardware;
mod interrupts;
mod irq;
mod kthreads;
mod report;
mod scheduler;
mod sysctl;
mod tasks;
mod tick;
mod tree;

use std::path::Path;

pub use report::{Check, Report, Status};

use crate::cpus::{Cpus, CpusError};
use context::Ctx;
use tree::Tree;

/// Why no report could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The machine's CPU sets could not be read (sysfs is not mounted under the root).
    #[error("cannot read the machine's CPUs: {0}")]
    Cpus(#[from] CpusError),
}

/// Checks whether `cpu` is fit for a latency-critical program, reading the /sys and /proc
/// found under `root` ("/" normally; a fake tree in tests).
pub fn check_cpu(cpu: u32, root: &Path) -> Result<Report, Error> {
    let cpus = Cpus::read_at(root)?;
    let first = match cpu::check(cpu, &cpus) {
        Ok(check) => check,
        Err(missing) => return Ok(Report::new(cpu, vec![missing])),
    };
    let ctx = Ctx::new(cpu, Tree::new(root), cpus);
    let [isolcpus, cpuset] = scheduler::checks(&ctx);
    let checks = vec![
        first,
        tick::nohz_full(&ctx),
        isolcpus,
        cpuset,
        tick::rcu_nocbs(&ctx),
        irq::affinity(&ctx),
        irq::default_affinity(&ctx),
        kthreads::workqueue(&ctx),
        kthreads::kthreads(&ctx),
        sysctl::watchdog(&ctx),
        sysctl::nmi_watchdog(&ctx),
        sysctl::stat_interval(&ctx),
        sysctl::timer_migration(&ctx),
        hardware::smt_sibling(&ctx),
        hardware::clocksource(&ctx),
        hardware::steal_time(&ctx),
    ];
    Ok(Report::new(cpu, checks))
}
