//! Checks "nohz_full" and "rcu_nocbs": whether the scheduler tick stops while one task
//! runs on the CPU, and whether RCU callbacks are processed elsewhere.

use taskwatch_core::cpulist::{self, CpuSet};

use super::context::{Ctx, NOHZ_FULL};
use super::cpu::or_none;
use super::report::Check;
use super::tree::display;

pub(super) const NOHZ_NAME: &str = "nohz_full";
pub(super) const RCU_NAME: &str = "rcu_nocbs";

/// The tick must stop: the task isolation series refuses a CPU that is not nohz_full.
pub(super) fn nohz_full(ctx: &Ctx) -> Check {
    let cpu = ctx.cpu;
    let path = display(NOHZ_FULL);
    // A nohz_full= the kernel did not act on: unsupported, or a list it refused.
    let cmdline = ctx.cmdline.as_ref().ok().and_then(Option::as_ref);
    let ignored = match cmdline.and_then(|c| c.get("nohz_full")) {
        Some(Some(list)) => format!("; nohz_full={list} on the command line had no effect"),
        _ => String::new(),
    };
    let set = match &ctx.nohz_full {
        Err(e) => return e.warn(NOHZ_NAME),
        Ok(None) => {
            return Check::fail(
                NOHZ_NAME,
                format!(
                    "the kernel has no nohz_full ({path} is absent): the scheduler tick \
                     interrupts CPU {cpu} HZ times a second{ignored}"
                ),
                Some(format!(
                    "boot with nohz_full={cpu} (needs a kernel built with CONFIG_NO_HZ_FULL=y)"
                )),
            )
        }
        Ok(Some(set)) => set,
    };
    if set.contains(cpu) {
        return Check::pass(
            NOHZ_NAME,
            format!("CPU {cpu} is nohz_full ({set}): the tick stops while one task runs"),
        );
    }
    let mut wanted = set.clone();
    // In range: the CPU was checked to be possible.
    let _ = wanted.insert(cpu);
    let found = if set.is_empty() {
        // An empty file (no "\n") is a kernel built without CONFIG_NO_HZ_FULL.
        let unsupported = matches!(ctx.tree.read(NOHZ_FULL), Ok(Some(t)) if t.is_empty());
        let found = if unsupported {
            format!(
                "the kernel was built without nohz_full ({path} is empty): the scheduler \
                 tick interrupts CPU {cpu} HZ times a second"
            )
        } else {
            format!("no CPU is nohz_full: the scheduler tick interrupts CPU {cpu}")
        };
        found + &ignored
    } else {
        format!("CPU {cpu} is not nohz_full (nohz_full: {set}): the tick keeps running on it")
    };
    Check::fail(
        NOHZ_NAME,
        found,
        Some(format!(
            "boot with nohz_full={wanted} (needs CONFIG_NO_HZ_FULL=y)"
        )),
    )
}

/// RCU callbacks run in softirq on their CPU unless offloaded to rcuo kthreads by
/// rcu_nocbs= (which nohz_full= implies).
pub(super) fn rcu_nocbs(ctx: &Ctx) -> Check {
    let cpu = ctx.cpu;
    let cmdline = match &ctx.cmdline {
        Err(e) => return e.warn(RCU_NAME),
        Ok(cmdline) => cmdline.as_ref(),
    };
    let nocbs = match cmdline.and_then(|c| c.get("rcu_nocbs")) {
        None => None,
        Some(None) => Some(CpuSet::new()),
        Some(Some(list)) => match cpulist::parse_bounded(list, ctx.cpus.nr_cpu_ids) {
            Ok(set) => Some(set),
            Err(e) => {
                return Check::warn(
                    RCU_NAME,
                    format!("the kernel cannot have used rcu_nocbs={list}: {e}"),
                    Some(format!("boot with rcu_nocbs={cpu}")),
                )
            }
        },
    };
    if let Some(set) = nocbs.as_ref().filter(|s| s.contains(cpu)) {
        return Check::pass(
            RCU_NAME,
            format!("CPU {cpu} is in rcu_nocbs={set}: its RCU callbacks run in rcuo threads"),
        );
    }
    if ctx.nohz_full_set().is_some_and(|s| s.contains(cpu)) {
        return Check::pass(
            RCU_NAME,
            format!("CPU {cpu}'s RCU callbacks are offloaded: nohz_full implies rcu_nocbs"),
        );
    }
    let given = match &nocbs {
        Some(set) => format!("rcu_nocbs={}", or_none(set)),
        None => "no rcu_nocbs= on the kernel command line".to_owned(),
    };
    Check::warn(
        RCU_NAME,
        format!("RCU callbacks run on CPU {cpu} in softirq ({given})"),
        Some(format!(
            "boot with rcu_nocbs={cpu} (nohz_full={cpu} implies it; add rcu_nocb_poll \
             to keep the rcuo threads from waking it)"
        )),
    )
}
