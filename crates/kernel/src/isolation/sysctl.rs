//! Checks "watchdog", "nmi_watchdog", "vm_stat_interval" and "timer_migration": sysctls
//! that make periodic work on every CPU, set the way tuned's cpu-partitioning profile
//! sets them (nmi_watchdog 0, stat_interval 10, timer_migration 0).

use super::context::Ctx;
use super::report::Check;
use super::tree::display;

pub(super) const WATCHDOG_NAME: &str = "watchdog";
pub(super) const NMI_NAME: &str = "nmi_watchdog";
pub(super) const STAT_NAME: &str = "vm_stat_interval";
pub(super) const TIMER_NAME: &str = "timer_migration";

const WATCHDOG: &str = "proc/sys/kernel/watchdog";
const SOFT_WATCHDOG: &str = "proc/sys/kernel/soft_watchdog";
const NMI_WATCHDOG: &str = "proc/sys/kernel/nmi_watchdog";
const WATCHDOG_CPUMASK: &str = "proc/sys/kernel/watchdog_cpumask";
const WATCHDOG_THRESH: &str = "proc/sys/kernel/watchdog_thresh";
const STAT_INTERVAL: &str = "proc/sys/vm/stat_interval";
const TIMER_MIGRATION: &str = "proc/sys/kernel/timer_migration";

/// The lowest vm.stat_interval (seconds) that passes.
const STAT_INTERVAL_MIN: i64 = 10;

/// Whether the lockup detectors watch this CPU: `Err(found)` when they do not.
fn watched(ctx: &Ctx) -> Result<String, String> {
    let cpu = ctx.cpu;
    match ctx.tree.read_list(WATCHDOG_CPUMASK) {
        Ok(Some(mask)) if !mask.contains(cpu) => Err(format!(
            "CPU {cpu} is not in kernel.watchdog_cpumask ({})",
            super::cpu::or_none(&mask)
        )),
        Ok(Some(mask)) => Ok(format!("watchdog_cpumask {mask}")),
        _ => Ok("no watchdog_cpumask".to_owned()),
    }
}

fn threshold(ctx: &Ctx) -> i64 {
    ctx.tree
        .read_number(WATCHDOG_THRESH)
        .ok()
        .flatten()
        .unwrap_or(10)
}

/// The soft lockup detector: an hrtimer every 2/5 of watchdog_thresh on each watched CPU.
pub(super) fn watchdog(ctx: &Ctx) -> Check {
    let cpu = ctx.cpu;
    let enabled = match ctx.tree.read_number(WATCHDOG) {
        Err(e) => return e.warn(WATCHDOG_NAME),
        Ok(None) => {
            return Check::pass(
                WATCHDOG_NAME,
                format!(
                    "no lockup detector in this kernel ({} is absent)",
                    display(WATCHDOG)
                ),
            )
        }
        Ok(Some(v)) => v != 0,
    };
    if !enabled {
        return Check::pass(
            WATCHDOG_NAME,
            "the lockup detectors are off (kernel.watchdog = 0)",
        );
    }
    if ctx.tree.read_number(SOFT_WATCHDOG).ok().flatten() == Some(0) {
        return Check::pass(
            WATCHDOG_NAME,
            "the soft lockup watchdog is off (kernel.soft_watchdog = 0)",
        );
    }
    match watched(ctx) {
        Err(found) => Check::pass(WATCHDOG_NAME, found),
        Ok(mask) => Check::warn(
            WATCHDOG_NAME,
            format!(
                "the soft lockup watchdog's timer fires on CPU {cpu} every {:.1}s \
                 (kernel.watchdog = 1, {mask})",
                threshold(ctx) as f64 * 0.4
            ),
            Some(match ctx.housekeeping_list() {
                Some(hk) => format!(
                    "sysctl -w kernel.watchdog_cpumask={hk} (nohz_full={cpu} at boot \
                     does it too)"
                ),
                None => "sysctl -w kernel.soft_watchdog=0".to_owned(),
            }),
        ),
    }
}

/// The hard lockup detector: a perf counter overflow NMI every watchdog_thresh seconds.
pub(super) fn nmi_watchdog(ctx: &Ctx) -> Check {
    let cpu = ctx.cpu;
    let enabled = match ctx.tree.read_number(NMI_WATCHDOG) {
        Err(e) => return e.warn(NMI_NAME),
        Ok(None) => {
            return Check::pass(
                NMI_NAME,
                format!(
                    "no hard lockup detector in this kernel ({} is absent)",
                    display(NMI_WATCHDOG)
                ),
            )
        }
        Ok(Some(v)) => v != 0,
    };
    if !enabled {
        return Check::pass(
            NMI_NAME,
            "the NMI watchdog is off (kernel.nmi_watchdog = 0)",
        );
    }
    if ctx.tree.read_number(WATCHDOG).ok().flatten() == Some(0) {
        return Check::pass(NMI_NAME, "the NMI watchdog is off (kernel.watchdog = 0)");
    }
    match watched(ctx) {
        Err(found) => Check::pass(NMI_NAME, found),
        Ok(mask) => Check::warn(
            NMI_NAME,
            format!(
                "the NMI watchdog interrupts CPU {cpu} every {}s (kernel.nmi_watchdog = 1, {mask})",
                threshold(ctx)
            ),
            Some("sysctl -w kernel.nmi_watchdog=0 (or boot with nmi_watchdog=0)".to_owned()),
        ),
    }
}

/// vmstat_update folds per-CPU VM counters every stat_interval seconds.
pub(super) fn stat_interval(ctx: &Ctx) -> Check {
    let seconds = match ctx.tree.read_number(STAT_INTERVAL) {
        Err(e) => return e.warn(STAT_NAME),
        Ok(None) => return absent(STAT_NAME, STAT_INTERVAL),
        Ok(Some(v)) => v,
    };
    if seconds >= STAT_INTERVAL_MIN {
        return Check::pass(
            STAT_NAME,
            format!("vmstat work runs at most every {seconds}s (vm.stat_interval = {seconds})"),
        );
    }
    Check::warn(
        STAT_NAME,
        format!(
            "per-CPU vmstat work may run on CPU {} every {seconds}s (vm.stat_interval = {seconds})",
            ctx.cpu
        ),
        Some(format!("sysctl -w vm.stat_interval={STAT_INTERVAL_MIN}")),
    )
}

/// With timer migration on, timers of idle CPUs are handed to busy ones to expire.
pub(super) fn timer_migration(ctx: &Ctx) -> Check {
    let value = match ctx.tree.read_number(TIMER_MIGRATION) {
        Err(e) => return e.warn(TIMER_NAME),
        Ok(None) => {
            return Check::pass(
                TIMER_NAME,
                format!(
                    "no timer migration in this kernel ({} is absent)",
                    display(TIMER_MIGRATION)
                ),
            )
        }
        Ok(Some(v)) => v,
    };
    if value == 0 {
        return Check::pass(
            TIMER_NAME,
            "timers stay on the CPU that queued them (kernel.timer_migration = 0)",
        );
    }
    Check::warn(
        TIMER_NAME,
        format!(
            "timers of idle CPUs may be moved to CPU {} to expire (kernel.timer_migration = {value})",
            ctx.cpu
        ),
        Some("sysctl -w kernel.timer_migration=0".to_owned()),
    )
}

fn absent(name: &'static str, path: &str) -> Check {
    Check::warn(name, format!("{} is absent", display(path)), None)
}
