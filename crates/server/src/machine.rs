//! The machine's CPU numbering that cpulists are checked against: nr_cpu_ids, the
//! configured NR_CPUS (for the length limit) and the possible set.

use taskwatch_core::cpulist::{validate_for_taskstats, CpuListError, CpuSet};
use taskwatch_kernel::cpus::{Cpus, CpusError};

/// What a cpulist is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// CPU numbers are below this.
    pub nr_cpu_ids: u32,
    /// The kernel's NR_CPUS, which bounds a cpulist's length.
    pub nr_cpus_config: u32,
    /// CPUs that can ever be online.
    pub possible: CpuSet,
}

impl Machine {
    /// This machine, from /sys.
    pub fn read() -> Result<Machine, CpusError> {
        let cpus = Cpus::read()?;
        Ok(Machine {
            nr_cpu_ids: cpus.nr_cpu_ids,
            nr_cpus_config: cpus.nr_cpus_config,
            possible: cpus.possible,
        })
    }

    /// Checks a subscriber's cpulist exactly as the kernel checks a taskstats listener's:
    /// syntax, CPU ≥ nr_cpu_ids, not possible, too long; an empty list is refused too.
    pub fn check_cpulist(&self, list: &str) -> Result<CpuSet, CpuListError> {
        validate_for_taskstats(list, self.nr_cpu_ids, self.nr_cpus_config, &self.possible)
    }
}
