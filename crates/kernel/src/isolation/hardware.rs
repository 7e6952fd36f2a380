//! Checks "smt_sibling", "clocksource" and "steal_time": what the hardware (or the
//! hypervisor pretending to be it) does to the CPU whatever the kernel is told.

use super::context::Ctx;
use super::report::Check;
use super::tree::display;

pub(super) const SMT_NAME: &str = "smt_sibling";
pub(super) const CLOCKSOURCE_NAME: &str = "clocksource";
pub(super) const STEAL_NAME: &str = "steal_time";

const CLOCKSOURCE_DIR: &str = "sys/devices/system/clocksource/clocksource0";
/// Clocksources user space reads directly through the vDSO from a CPU counter.
const GOOD_CLOCKSOURCES: [&str; 3] = ["tsc", "arch_sys_counter", "timebase"];
/// Paravirtual clocksources: readable from the vDSO, but through a page the hypervisor
/// updates.
const PARAVIRT_CLOCKSOURCES: [&str; 3] = ["kvm-clock", "hyperv_clocksource_tsc_page", "xen"];

/// A hyperthread sibling shares the core's pipeline and caches.
pub(super) fn smt_sibling(ctx: &Ctx) -> Check {
    let cpu = ctx.cpu;
    let path = format!("sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list");
    let siblings = match ctx.tree.read_list(&path) {
        Err(e) => return e.warn(SMT_NAME),
        Ok(None) => {
            return Check::warn(
                SMT_NAME,
                format!("the CPU topology is unknown ({} is absent)", display(&path)),
                None,
            )
        }
        Ok(Some(mut set)) => {
            set.remove(cpu);
            set
        }
    };
    if siblings.is_empty() {
        return Check::pass(SMT_NAME, format!("CPU {cpu} has no SMT sibling"));
    }
    let online = siblings.intersection(&ctx.cpus.online);
    if online.is_empty() {
        return Check::pass(
            SMT_NAME,
            format!("CPU {cpu}'s SMT sibling {siblings} is offline"),
        );
    }
    let offline: Vec<String> = online
        .iter()
        .map(|s| format!("echo 0 > /sys/devices/system/cpu/cpu{s}/online"))
        .collect();
    Check::warn(
        SMT_NAME,
        format!(
            "CPU {cpu} shares its core with CPU {online} (online): whatever runs there \
             competes for the pipeline and caches"
        ),
        Some(format!(
            "{} (or keep it idle: isolate it too, or boot with nosmt)",
            offline.join("; ")
        )),
    )
}

/// clock_gettime() stays in user space only with a clocksource the vDSO can read.
pub(super) fn clocksource(ctx: &Ctx) -> Check {
    let current_path = format!("{CLOCKSOURCE_DIR}/current_clocksource");
    let current = match ctx.tree.read(&current_path) {
        Err(e) => return e.warn(CLOCKSOURCE_NAME),
        Ok(None) => {
            return Check::warn(
                CLOCKSOURCE_NAME,
                format!(
                    "the clocksource is unknown ({} is absent)",
                    display(&current_path)
                ),
                None,
            )
        }
        Ok(Some(text)) => text.trim().to_owned(),
    };
    if GOOD_CLOCKSOURCES.contains(&current.as_str()) {
        return Check::pass(
            CLOCKSOURCE_NAME,
            format!("{current}: clock_gettime() reads the CPU's counter in user space"),
        );
    }
    let available = ctx
        .tree
        .read(&format!("{CLOCKSOURCE_DIR}/available_clocksource"))
        .ok()
        .flatten()
        .unwrap_or_default();
    let better = available
        .split_whitespace()
        .find(|c| GOOD_CLOCKSOURCES.contains(c));
    let found = if PARAVIRT_CLOCKSOURCES.contains(&current.as_str()) {
        format!(
            "{current}: a paravirtual clock, read in user space through a page the \
             hypervisor updates"
        )
    } else {
        format!("{current}: the vDSO cannot read it, so every clock_gettime() enters the kernel")
    };
    let fix = match better {
        Some(good) => format!("echo {good} > /{CLOCKSOURCE_DIR}/current_clocksource"),
        None => "boot with tsc=reliable clocksource=tsc if the TSC is stable".to_owned(),
    };
    Check::warn(CLOCKSOURCE_NAME, found, Some(fix))
}

/// Steal time: the hypervisor ran something else on this vCPU's physical CPU.
pub(super) fn steal_time(ctx: &Ctx) -> Check {
    let cpu = ctx.cpu;
    let stat = match ctx.tree.read("proc/stat") {
        Err(e) => return e.warn(STEAL_NAME),
        Ok(None) => return Check::warn(STEAL_NAME, "/proc/stat is absent", None),
        Ok(Some(text)) => text,
    };
    let label = format!("cpu{cpu}");
    // cpuN user nice system idle iowait irq softirq steal guest guest_nice
    let steal = stat
        .lines()
        .find(|l| l.split_whitespace().next() == Some(label.as_str()))
        .and_then(|l| l.split_whitespace().nth(8)?.parse::<u64>().ok());
    let Some(steal) = steal else {
        return Check::warn(
            STEAL_NAME,
            format!("/proc/stat has no steal time for CPU {cpu} (offline?)"),
            None,
        );
    };
    let hypervisor = ctx
        .tree
        .read("proc/cpuinfo")
        .ok()
        .flatten()
        .is_some_and(|info| {
            info.lines()
                .filter(|l| l.starts_with("flags"))
                .any(|l| l.split_whitespace().any(|f| f == "hypervisor"))
        });
    if steal == 0 {
        let vm = if hypervisor {
            " (a virtual machine, but this vCPU was never preempted)"
        } else {
            ""
        };
        return Check::pass(
            STEAL_NAME,
            format!("no steal time on CPU {cpu} since boot{vm}"),
        );
    }
    let hz = crate::procfs::clock_ticks_per_sec().max(1);
    Check::warn(
        STEAL_NAME,
        format!(
            "CPU {cpu} is a virtual CPU: the hypervisor took {:.2}s from it since boot \
             ({steal} ticks of steal time), and can preempt it at any moment",
            steal as f64 / hz as f64
        ),
        Some(
            "on the host, pin this vCPU to a dedicated, isolated physical CPU \
             (or run on bare metal)"
                .to_owned(),
        ),
    )
}
