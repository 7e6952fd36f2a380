//! What several checks share, read once: the machine's CPUs, the nohz_full and isolated
//! sets, the boot command line, the kernel threads, and where to move work to.

use taskwatch_core::cpulist::CpuSet;

use crate::cpus::Cpus;

use super::cmdline::Cmdline;
use super::tasks::Tasks;
use super::tree::{Tree, Unreadable};

pub(super) const NOHZ_FULL: &str = "sys/devices/system/cpu/nohz_full";
pub(super) const ISOLATED: &str = "sys/devices/system/cpu/isolated";
pub(super) const CMDLINE: &str = "proc/cmdline";

/// Shared state of one check run.
pub(super) struct Ctx {
    /// The CPU being checked.
    pub(super) cpu: u32,
    pub(super) tree: Tree,
    pub(super) cpus: Cpus,
    /// /sys/devices/system/cpu/nohz_full; `Ok(None)` when the file is absent.
    pub(super) nohz_full: Result<Option<CpuSet>, Unreadable>,
    /// /sys/devices/system/cpu/isolated (isolcpus' domain CPUs).
    pub(super) isolated: Result<Option<CpuSet>, Unreadable>,
    /// /proc/cmdline split into parameters.
    pub(super) cmdline: Result<Option<Cmdline>, Unreadable>,
    pub(super) tasks: Result<Tasks, Unreadable>,
    /// Where interrupts, kernel threads and unbound work should go instead: the online
    /// CPUs other than this one that are not isolated themselves (all other online CPUs
    /// when every one is).
    pub(super) housekeeping: CpuSet,
}

impl Ctx {
    pub(super) fn new(cpu: u32, tree: Tree, cpus: Cpus) -> Ctx {
        let nohz_full = tree.read_list(NOHZ_FULL);
        let isolated = tree.read_list(ISOLATED);
        let cmdline = tree
            .read(CMDLINE)
            .map(|text| text.map(|t| Cmdline::parse(&t)));
        let tasks = Tasks::scan(&tree);
        let mut others = cpus.online.clone();
        others.remove(cpu);
        let mut housekeeping = others.clone();
        for set in [&nohz_full, &isolated].into_iter().flatten().flatten() {
            housekeeping = housekeeping.difference(set);
        }
        if housekeeping.is_empty() {
            housekeeping = others;
        }
        Ctx {
            cpu,
            tree,
            cpus,
            nohz_full,
            isolated,
            cmdline,
            tasks,
            housekeeping,
        }
    }

    /// The nohz_full CPUs, when known.
    pub(super) fn nohz_full_set(&self) -> Option<&CpuSet> {
        self.nohz_full.as_ref().ok()?.as_ref()
    }

    /// The isolcpus (domain) CPUs, when known.
    pub(super) fn isolated_set(&self) -> Option<&CpuSet> {
        self.isolated.as_ref().ok()?.as_ref()
    }

    /// The housekeeping CPUs as a cpulist, or `None` when there is no other online CPU.
    pub(super) fn housekeeping_list(&self) -> Option<String> {
        (!self.housekeeping.is_empty()).then(|| self.housekeeping.to_string())
    }

    /// The housekeeping CPUs as a hex mask the width of this machine's cpumasks.
    pub(super) fn housekeeping_mask(&self) -> Option<String> {
        (!self.housekeeping.is_empty()).then(|| self.housekeeping.to_hex_mask(self.cpus.nr_cpu_ids))
    }
}
