//! The machine's CPUs as the kernel sees them: possible, online and present sets, and
//! nr_cpu_ids, read from /sys/devices/system/cpu.
//!
//! Possible CPUs are those that could ever be brought up (hot-plug slots included) and
//! fix nr_cpu_ids, the bound on CPU numbers; present ones are plugged in; online ones
//! run tasks. `kernel_max` is the build's NR_CPUS - 1.

use std::io;
use std::path::{Path, PathBuf};

use taskwatch_core::cpulist::{self, CpuListError, CpuSet};

/// The machine's CPU sets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Cpus {
    /// CPUs that can ever be online (/sys/devices/system/cpu/possible).
    pub possible: CpuSet,
    /// CPUs running now (/sys/devices/system/cpu/online).
    pub online: CpuSet,
    /// CPUs physically present (/sys/devices/system/cpu/present).
    pub present: CpuSet,
    /// One more than the highest possible CPU: CPU numbers from the kernel are below it,
    /// and cpulists are parsed against it.
    pub nr_cpu_ids: u32,
    /// NR_CPUS, the most CPUs the kernel was built for (/sys/devices/system/cpu/kernel_max
    /// + 1; nr_cpu_ids when that file is missing). Bounds the taskstats cpulist length.
    pub nr_cpus_config: u32,
}

/// Why the CPU sets could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CpusError {
    /// A file could not be read (sysfs not mounted, or not Linux).
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A file did not hold a cpulist.
    #[error("cannot parse {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What was wrong with its text.
        source: CpuListError,
    },
    /// A file that holds one number held something else.
    #[error("{path} holds {text:?}, not a number")]
    NotANumber {
        /// The file.
        path: PathBuf,
        /// What it held, trimmed.
        text: String,
    },
    /// The possible set is empty, which no running kernel reports.
    #[error("{path} lists no CPU")]
    NoPossibleCpu {
        /// The file.
        path: PathBuf,
    },
}

/// Where the CPU files are, relative to the filesystem root.
const CPU_DIR: &str = "sys/devices/system/cpu";

impl Cpus {
    /// Reads the CPU sets of this machine from /sys.
    pub fn read() -> Result<Cpus, CpusError> {
        Cpus::read_at(Path::new("/"))
    }

    /// Reads the CPU sets from `root`/sys/devices/system/cpu, so that tests can point it
    /// at a fake tree.
    pub fn read_at(root: &Path) -> Result<Cpus, CpusError> {
        let dir = root.join(CPU_DIR);
        let possible = read_list(&dir.join("possible"))?;
        let Some(last) = possible.last() else {
            return Err(CpusError::NoPossibleCpu {
                path: dir.join("possible"),
            });
        };
        let nr_cpu_ids = last + 1;
        let online = read_list(&dir.join("online"))?;
        let present = read_list(&dir.join("present"))?;
        let kernel_max = dir.join("kernel_max");
        let nr_cpus_config = match std::fs::read_to_string(&kernel_max) {
            Ok(text) => text
                .trim()
                .parse::<u32>()
                .ok()
                .and_then(|max| max.checked_add(1))
                .ok_or_else(|| CpusError::NotANumber {
                    path: kernel_max.clone(),
                    text: text.trim().to_owned(),
                })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => nr_cpu_ids,
            Err(source) => {
                return Err(CpusError::Read {
                    path: kernel_max,
                    source,
                })
            }
        };
        Ok(Cpus {
            possible,
            online,
            present,
            nr_cpu_ids,
            nr_cpus_config: nr_cpus_config.max(nr_cpu_ids),
        })
    }

    /// Checks a cpulist for taskstats registration the way this kernel will (see
    /// [`cpulist::validate_for_taskstats`]), and returns the CPUs it names.
    pub fn validate_taskstats_cpulist(&self, list: &str) -> Result<CpuSet, CpuListError> {
        cpulist::validate_for_taskstats(list, self.nr_cpu_ids, self.nr_cpus_config, &self.possible)
    }
}

fn read_list(path: &Path) -> Result<CpuSet, CpusError> {
    let text = std::fs::read_to_string(path).map_err(|source| CpusError::Read {
        path: path.to_owned(),
        source,
    })?;
    cpulist::parse(&text).map_err(|source| CpusError::Parse {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_machine() {
        let cpus = Cpus::read().unwrap();
        assert!(!cpus.possible.is_empty());
        assert!(cpus.online.is_subset(&cpus.possible));
        assert!(cpus.present.is_subset(&cpus.possible));
        assert_eq!(cpus.possible.last(), Some(cpus.nr_cpu_ids - 1));
        assert!(cpus.nr_cpus_config >= cpus.nr_cpu_ids);
        let all = format!("0-{}", cpus.nr_cpu_ids - 1);
        if cpus.possible.len() == cpus.nr_cpu_ids as usize {
            assert_eq!(cpus.validate_taskstats_cpulist(&all), Ok(cpus.possible));
        }
    }
}
