//! Checks "irq_affinity" and "default_smp_affinity": device interrupts routed to the CPU
//! or allowed to move there, and where newly set up interrupts go.
//!
//! An IRQ whose effective affinity (/proc/irq/N/effective_affinity_list) includes the
//! CPU is delivered there; one whose smp_affinity_list merely includes it may be moved
//! there (by the kernel on hot-plug, or by irqbalance). Per-CPU and kernel-managed IRQs
//! cannot be moved at all: debugfs (/sys/kernel/debug/irq/irqs/N) names them when
//! mounted; without it, a write refused with EIO tells.

use taskwatch_core::cpulist::CpuSet;

use super::context::Ctx;
use super::interrupts::Interrupts;
use super::report::Check;

pub(super) const AFFINITY_NAME: &str = "irq_affinity";
pub(super) const DEFAULT_NAME: &str = "default_smp_affinity";

const DEFAULT_SMP_AFFINITY: &str = "proc/irq/default_smp_affinity";
/// IRQs named in the found text at most; the fix names them all.
const EXAMPLES: usize = 6;

/// One IRQ that can reach the CPU.
struct Irq {
    number: u32,
    name: String,
    /// Interrupts on the CPU since boot.
    count: Option<u64>,
    /// Delivered to the CPU now (else only allowed there).
    routed: bool,
    /// Per-CPU or managed: writes to its affinity fail.
    unmovable: bool,
}

pub(super) fn affinity(ctx: &Ctx) -> Check {
    let cpu = ctx.cpu;
    let numbers = match ctx.tree.numbered_entries("proc/irq") {
        Err(e) => return e.warn(AFFINITY_NAME),
        Ok(None) => {
            return Check::pass(
                AFFINITY_NAME,
                "no /proc/irq: the kernel has no IRQ affinity to look at",
            )
        }
        Ok(Some(numbers)) => numbers,
    };
    let table = ctx
        .tree
        .read("proc/interrupts")
        .ok()
        .flatten()
        .map(|t| Interrupts::parse(&t));
    let mut irqs = Vec::new();
    for number in numbers {
        // Without a handler an IRQ is not in /proc/interrupts and never fires.
        let row = match &table {
            Some(t) => match t.irq(number) {
                Some(row) => Some(row),
                None => continue,
            },
            None => None,
        };
        let dir = format!("proc/irq/{number}");
        let Ok(Some(allowed)) = ctx.tree.read_list(&format!("{dir}/smp_affinity_list")) else {
            continue;
        };
        let effective = ctx
            .tree
            .read_list(&format!("{dir}/effective_affinity_list"))
            .ok()
            .flatten();
        let routed = match &effective {
            Some(eff) => eff.contains(cpu),
            None => allowed.len() == 1 && allowed.contains(cpu),
        };
        if !routed && !allowed.contains(cpu) {
            continue;
        }
        let name = ctx
            .tree
            .read(&format!("sys/kernel/irq/{number}/actions"))
            .ok()
            .flatten()
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .or_else(|| row.map(|r| r.handler().to_owned()))
            .unwrap_or_else(|| "?".to_owned());
        irqs.push(Irq {
            number,
            name,
            count: table
                .as_ref()
                .zip(row)
                .and_then(|(t, r)| t.count_on(r, cpu)),
            routed,
            unmovable: unmovable(ctx, number),
        });
    }
    verdict(ctx, &irqs)
}

fn verdict(ctx: &Ctx, irqs: &[Irq]) -> Check {
    let cpu = ctx.cpu;
    if irqs.is_empty() {
        return Check::pass(
            AFFINITY_NAME,
            format!("no device IRQ is routed to or allowed on CPU {cpu}"),
        );
    }
    // Busiest first, so the examples are the ones that matter.
    let mut by_count: Vec<&Irq> = irqs.iter().collect();
    by_count.sort_by_key(|i| std::cmp::Reverse(i.count.unwrap_or(0)));
    let routed: Vec<&Irq> = by_count.iter().copied().filter(|i| i.routed).collect();
    let allowed: Vec<&Irq> = by_count.iter().copied().filter(|i| !i.routed).collect();
    let mut found = Vec::new();
    if !routed.is_empty() {
        found.push(format!(
            "{} routed to CPU {cpu} (interrupts there since boot): {}",
            plural(routed.len(), "IRQ is", "IRQs are"),
            examples(&routed)
        ));
    }
    if !allowed.is_empty() {
        let who = if routed.is_empty() {
            plural(allowed.len(), "IRQ", "IRQs")
        } else {
            format!("{} more", allowed.len())
        };
        found.push(format!(
            "{who} may be moved to CPU {cpu} by their smp_affinity_list: {}",
            examples(&allowed)
        ));
    }
    let stuck: Vec<&Irq> = irqs.iter().filter(|i| i.unmovable).collect();
    if !stuck.is_empty() {
        found.push(format!(
            "{} per-CPU or kernel-managed and cannot be moved: {}",
            plural(stuck.len(), "IRQ is", "IRQs are"),
            numbers(&stuck)
        ));
    }
    let movable: Vec<&Irq> = irqs.iter().filter(|i| !i.unmovable).collect();
    let fix = ctx
        .housekeeping_list()
        .filter(|_| !movable.is_empty())
        .map(|hk| {
            let mut fix = format!(
                "for i in {}; do echo {hk} > /proc/irq/$i/smp_affinity_list; done \
             (EIO means a kernel-managed IRQ: boot with isolcpus=managed_irq,{cpu} for those)",
                numbers(&movable)
            );
            if let Some(Some(pid)) = ctx.tasks.as_ref().ok().map(|t| t.irqbalance) {
                fix.push_str(&format!(
                    "; irqbalance (pid {pid}) would move them back: run it with \
                 IRQBALANCE_BANNED_CPULIST={cpu}, or stop it"
                ));
            }
            fix
        });
    let status_fail = routed.iter().any(|i| !i.unmovable);
    let found = found.join("; ");
    if status_fail {
        Check::fail(AFFINITY_NAME, found, fix)
    } else {
        Check::warn(AFFINITY_NAME, found, fix)
    }
}

/// Per-CPU, no-balancing or managed, from the IRQ's debugfs state flags.
fn unmovable(ctx: &Ctx, number: u32) -> bool {
    ctx.tree
        .read(&format!("sys/kernel/debug/irq/irqs/{number}"))
        .ok()
        .flatten()
        .is_some_and(|state| {
            ["IRQD_PER_CPU", "IRQD_NO_BALANCING", "IRQD_AFFINITY_MANAGED"]
                .iter()
                .any(|flag| state.contains(flag))
        })
}

fn examples(irqs: &[&Irq]) -> String {
    let mut parts: Vec<String> = irqs
        .iter()
        .take(EXAMPLES)
        .map(|i| match i.count {
            Some(n) => format!("{} {} ({n})", i.number, i.name),
            None => format!("{} {}", i.number, i.name),
        })
        .collect();
    if irqs.len() > EXAMPLES {
        parts.push(format!("and {} more", irqs.len() - EXAMPLES));
    }
    parts.join(", ")
}

fn numbers(irqs: &[&Irq]) -> String {
    let numbers: Vec<String> = irqs.iter().map(|i| i.number.to_string()).collect();
    numbers.join(" ")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The affinity given to IRQs set up from now on.
pub(super) fn default_affinity(ctx: &Ctx) -> Check {
    let cpu = ctx.cpu;
    let mask = match ctx.tree.read_mask(DEFAULT_SMP_AFFINITY) {
        Err(e) => return e.warn(DEFAULT_NAME),
        Ok(None) => {
            return Check::pass(
                DEFAULT_NAME,
                "no /proc/irq/default_smp_affinity: the kernel has no IRQ affinity",
            )
        }
        Ok(Some(mask)) => mask,
    };
    let text = describe_mask(ctx, &mask);
    if !mask.contains(cpu) {
        return Check::pass(
            DEFAULT_NAME,
            format!("new IRQs avoid CPU {cpu} (default_smp_affinity {text})"),
        );
    }
    Check::warn(
        DEFAULT_NAME,
        format!("new IRQs may be routed to CPU {cpu} (default_smp_affinity {text})"),
        ctx.housekeeping_mask()
            .map(|m| format!("echo {m} > /proc/irq/default_smp_affinity")),
    )
}

/// "3 = CPUs 0-1".
pub(super) fn describe_mask(ctx: &Ctx, mask: &CpuSet) -> String {
    format!(
        "{} = CPUs {}",
        mask.to_hex_mask(ctx.cpus.nr_cpu_ids),
        super::cpu::or_none(mask)
    )
}
