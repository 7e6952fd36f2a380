//! Checks "workqueue_cpumask" and "kthreads": kernel work that is not tied to a CPU but
//! may run on this one, as unbound workqueue items or as kernel threads allowed there.
//!
//! Kernel threads bound to this CPU alone (ksoftirqd/N, migration/N, kworker/N:M) are
//! inherent and only counted; the ones that roam are the problem.

use super::context::Ctx;
use super::irq::describe_mask;
use super::report::Check;
use super::tasks::Kthread;
use super::tree::display;

pub(super) const WORKQUEUE_NAME: &str = "workqueue_cpumask";
pub(super) const KTHREADS_NAME: &str = "kthreads";

const WORKQUEUE_CPUMASK: &str = "sys/devices/virtual/workqueue/cpumask";
/// Threads named in the found text at most.
const EXAMPLES: usize = 5;

pub(super) fn workqueue(ctx: &Ctx) -> Check {
    let cpu = ctx.cpu;
    let mask = match ctx.tree.read_mask(WORKQUEUE_CPUMASK) {
        Err(e) => return e.warn(WORKQUEUE_NAME),
        Ok(None) => {
            return Check::warn(
                WORKQUEUE_NAME,
                format!(
                    "unbound workqueues cannot be kept off CPU {cpu}: {} is absent",
                    display(WORKQUEUE_CPUMASK)
                ),
                None,
            )
        }
        Ok(Some(mask)) => mask,
    };
    let text = describe_mask(ctx, &mask);
    if !mask.contains(cpu) {
        return Check::pass(
            WORKQUEUE_NAME,
            format!("unbound workqueue work stays off CPU {cpu} (cpumask {text})"),
        );
    }
    Check::warn(
        WORKQUEUE_NAME,
        format!("unbound workqueue work may run on CPU {cpu} (cpumask {text})"),
        ctx.housekeeping_mask()
            .map(|m| format!("echo {m} > {}", display(WORKQUEUE_CPUMASK))),
    )
}

pub(super) fn kthreads(ctx: &Ctx) -> Check {
    let cpu = ctx.cpu;
    let tasks = match &ctx.tasks {
        Err(e) => return e.warn(KTHREADS_NAME),
        Ok(tasks) => tasks,
    };
    let here = |k: &&Kthread| k.allowed.contains(cpu);
    let bound = tasks
        .kthreads
        .iter()
        .filter(here)
        .filter(|k| k.allowed.len() == 1)
        .count();
    let roaming: Vec<&Kthread> = tasks
        .kthreads
        .iter()
        .filter(here)
        .filter(|k| k.allowed.len() > 1)
        .collect();
    let bound_note = match bound {
        0 => String::new(),
        1 => "; 1 per-CPU kthread is bound to it (inherent)".to_owned(),
        n => format!("; {n} per-CPU kthreads are bound to it (inherent)"),
    };
    if roaming.is_empty() {
        return Check::pass(
            KTHREADS_NAME,
            format!("no unbound kernel thread may run on CPU {cpu}{bound_note}"),
        );
    }
    let mut names: Vec<String> = roaming
        .iter()
        .take(EXAMPLES)
        .map(|k| format!("{}[{}]", k.comm, k.pid))
        .collect();
    if roaming.len() > EXAMPLES {
        names.push(format!("and {} more", roaming.len() - EXAMPLES));
    }
    let found = format!(
        "{} kernel threads may run on CPU {cpu}: {}{bound_note}",
        roaming.len(),
        names.join(", ")
    );
    let movable: Vec<String> = roaming
        .iter()
        .filter(|k| k.movable)
        .map(|k| k.pid.to_string())
        .collect();
    let pinned = roaming.len() - movable.len();
    let fix = ctx.housekeeping_list().map(|hk| {
        let mut steps = Vec::new();
        if !movable.is_empty() {
            steps.push(format!(
                "for p in {}; do taskset -pc {hk} $p; done",
                movable.join(" ")
            ));
        }
        if pinned > 0 {
            steps.push(format!(
                "the other {pinned} are workqueue workers, which follow the workqueue \
                 cpumask (see {WORKQUEUE_NAME})"
            ));
        }
        if !ctx.nohz_full_set().is_some_and(|s| s.contains(cpu)) {
            steps.push(format!(
                "booting with nohz_full={cpu} keeps kthreads off it"
            ));
        }
        steps.join("; ")
    });
    Check::warn(KTHREADS_NAME, found, fix)
}
