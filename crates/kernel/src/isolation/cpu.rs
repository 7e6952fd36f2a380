//! Check "cpu": the CPU exists, is present and online, and is not the only one online
//! (isolating the last CPU leaves nothing to run the rest of the system).

use taskwatch_core::cpulist::CpuSet;

use crate::cpus::Cpus;

use super::report::Check;

pub(super) const NAME: &str = "cpu";

/// `Err` when the CPU does not exist: then no other check means anything.
pub(super) fn check(cpu: u32, cpus: &Cpus) -> Result<Check, Check> {
    if !cpus.possible.contains(cpu) {
        return Err(Check::fail(
            NAME,
            format!(
                "CPU {cpu} does not exist: this machine's CPUs are {} (nr_cpu_ids {})",
                cpus.possible, cpus.nr_cpu_ids
            ),
            Some(format!("choose one of the online CPUs {}", cpus.online)),
        ));
    }
    let online_path = format!("/sys/devices/system/cpu/cpu{cpu}/online");
    if !cpus.present.contains(cpu) {
        return Ok(Check::fail(
            NAME,
            format!("CPU {cpu} is possible but not present (an empty hot-plug slot)"),
            Some(format!(
                "add the CPU (hypervisor or firmware), then echo 1 > {online_path}"
            )),
        ));
    }
    if !cpus.online.contains(cpu) {
        return Ok(Check::fail(
            NAME,
            format!(
                "CPU {cpu} is offline (online CPUs: {})",
                or_none(&cpus.online)
            ),
            Some(format!("echo 1 > {online_path}")),
        ));
    }
    if cpus.online.len() == 1 {
        return Ok(Check::fail(
            NAME,
            format!("CPU {cpu} is the only online CPU: nothing would be left for housekeeping"),
            Some("bring another CPU online, or use a machine with at least two".to_owned()),
        ));
    }
    Ok(Check::pass(
        NAME,
        format!("CPU {cpu} is online (online CPUs: {})", cpus.online),
    ))
}

/// A set as a list, or "none".
pub(super) fn or_none(set: &CpuSet) -> String {
    if set.is_empty() {
        "none".to_owned()
    } else {
        set.to_string()
    }
}
