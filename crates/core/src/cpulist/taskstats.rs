//! The kernel's checks on a taskstats listener's cpulist (TASKSTATS_CMD_ATTR_REGISTER_CPUMASK),
//! made before sending so a refusal comes with a reason instead of a bare errno.
//!
//! kernel/taskstats.c, in order: parse() refuses an attribute longer than
//! TASKSTATS_CPUMASK_MAXLEN = 100 + 6 × NR_CPUS bytes (E2BIG), then cpulist_parse() reads
//! it against nr_cpu_ids bits (EINVAL, ERANGE, EOVERFLOW); add_del_listener() then
//! refuses a mask that is not a subset of cpu_possible_mask (EINVAL).

use super::error::CpuListError;
use super::list::parse_bounded;
use super::set::CpuSet;

/// TASKSTATS_CPUMASK_MAXLEN: the longest cpulist attribute the kernel takes, terminating
/// NUL included.
pub fn taskstats_max_len(nr_cpus: u32) -> usize {
    100 + 6 * nr_cpus as usize
}

/// Checks `list` as the kernel will when it is sent to register (or deregister) a
/// taskstats listener, and returns the CPUs it names.
///
/// `nr_cpu_ids` bounds the CPU numbers (kernel 6.2 and later parse cpumasks against
/// nr_cpu_ids); `nr_cpus` is the kernel's configured NR_CPUS
/// (/sys/devices/system/cpu/kernel_max + 1), which bounds the length; `possible` is
/// /sys/devices/system/cpu/possible. The caller must send `list` followed by a NUL:
/// without it the kernel silently drops the last character.
///
/// One check is ours: an empty list (or one of only separators) is
/// [`CpuListError::Empty`], where the kernel would succeed and register for nothing.
pub fn validate_for_taskstats(
    list: &str,
    nr_cpu_ids: u32,
    nr_cpus: u32,
    possible: &CpuSet,
) -> Result<CpuSet, CpuListError> {
    let max = taskstats_max_len(nr_cpus);
    // nla_len counts the NUL we send after the text.
    if list.len() + 1 > max {
        return Err(CpuListError::TooLong {
            len: list.len(),
            max: max - 1,
            nr_cpus,
        });
    }
    let cpus = parse_bounded(list, nr_cpu_ids)?;
    if !cpus.is_subset(possible) {
        return Err(CpuListError::NotPossible {
            cpus: cpus.difference(possible),
            possible: possible.clone(),
        });
    }
    if cpus.is_empty() {
        return Err(CpuListError::Empty);
    }
    Ok(cpus)
}
