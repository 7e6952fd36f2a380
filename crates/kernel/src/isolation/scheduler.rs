//! Checks "isolcpus" and "cpuset_partition": whether the scheduler keeps other tasks off
//! the CPU, by isolcpus= at boot or by an isolated cgroup v2 cpuset partition at run time.
//!
//! Either one is enough, so each passes when the other covers the CPU.

use taskwatch_core::cpulist::{self, CpuSet};

use super::context::{Ctx, ISOLATED};
use super::cpu::or_none;
use super::report::Check;
use super::tree::{display, Tree};

pub(super) const ISOLCPUS_NAME: &str = "isolcpus";
pub(super) const CPUSET_NAME: &str = "cpuset_partition";

/// Directories looked at at most when searching the cgroup tree for partitions.
const MAX_CGROUPS: usize = 10_000;
/// How deep partitions are looked for.
const MAX_DEPTH: usize = 8;

/// What the cgroup v2 cpuset hierarchy says about the CPU.
enum Partition {
    /// No cgroup2 filesystem is mounted.
    NoCgroup2,
    /// cgroup2 is mounted at `mount`, without the cpuset controller.
    NoCpusetController { mount: String },
    /// A valid isolated partition holds the CPU.
    Isolated { cgroup: String, cpus: CpuSet },
    /// An isolated partition was asked for but the kernel found it invalid.
    Invalid { cgroup: String, state: String },
    /// No isolated partition holds the CPU.
    None { mount: String },
}

/// Both checks, in order: isolcpus, cpuset_partition.
pub(super) fn checks(ctx: &Ctx) -> [Check; 2] {
    let partition = find_partition(&ctx.tree, ctx.cpu);
    [isolcpus(ctx, &partition), cpuset(ctx, &partition)]
}

fn isolcpus(ctx: &Ctx, partition: &Partition) -> Check {
    let cpu = ctx.cpu;
    let set = match &ctx.isolated {
        Err(e) => return e.warn(ISOLCPUS_NAME),
        Ok(None) => None,
        Ok(Some(set)) => Some(set),
    };
    if let Some(set) = set.filter(|s| s.contains(cpu)) {
        return Check::pass(
            ISOLCPUS_NAME,
            format!("CPU {cpu} is isolated from scheduler load balancing (isolated: {set})"),
        );
    }
    if let Partition::Isolated { cgroup, .. } = partition {
        return Check::pass(
            ISOLCPUS_NAME,
            format!("CPU {cpu} is not in isolcpus, but the isolated partition {cgroup} holds it"),
        );
    }
    let found = match set {
        Some(set) => format!(
            "CPU {cpu} is not isolated (isolated: {}): the scheduler may run other tasks on it",
            or_none(set)
        ),
        None => format!(
            "the kernel does not report isolated CPUs ({} is absent): \
             the scheduler may run other tasks on CPU {cpu}",
            display(ISOLATED)
        ),
    };
    Check::warn(
        ISOLCPUS_NAME,
        found,
        Some(format!(
            "boot with isolcpus=domain,managed_irq,{cpu}, or make an isolated cpuset partition \
             (see {CPUSET_NAME})"
        )),
    )
}

fn cpuset(ctx: &Ctx, partition: &Partition) -> Check {
    let cpu = ctx.cpu;
    let in_isolcpus = ctx.isolated_set().is_some_and(|s| s.contains(cpu));
    let (found, fix) = match partition {
        Partition::Isolated { cgroup, cpus } => {
            return Check::pass(
                CPUSET_NAME,
                format!(
                    "CPU {cpu} is in the isolated cpuset partition {cgroup} \
                     (cpuset.cpus.effective {cpus})"
                ),
            )
        }
        Partition::Invalid { cgroup, state } => {
            return Check::warn(
                CPUSET_NAME,
                format!("the cpuset partition {cgroup} holding CPU {cpu} is {state:?}"),
                Some(format!(
                    "make {cgroup}/cpuset.cpus exclusive to it (no sibling may use CPU {cpu}) \
                     and its parent a partition root, then echo isolated > \
                     {cgroup}/cpuset.cpus.partition"
                )),
            )
        }
        Partition::NoCgroup2 => (
            "no cgroup v2 hierarchy is mounted".to_owned(),
            format!(
                "mount -t cgroup2 none /sys/fs/cgroup, then {}",
                make_partition("/sys/fs/cgroup", cpu)
            ),
        ),
        Partition::NoCpusetController { mount } => (
            format!(
                "the cpuset controller is not available in the cgroup v2 hierarchy at {mount} \
                 (a cgroup v1 hierarchy holds it)"
            ),
            format!(
                "boot with cgroup_no_v1=cpuset (or unmount the v1 cpuset hierarchy), then {}",
                make_partition(mount, cpu)
            ),
        ),
        Partition::None { mount } => (
            format!("no isolated cpuset partition under {mount} holds CPU {cpu}"),
            make_partition(mount, cpu),
        ),
    };
    if in_isolcpus {
        return Check::pass(
            CPUSET_NAME,
            format!("{found}; not needed: CPU {cpu} is in isolcpus"),
        );
    }
    Check::warn(CPUSET_NAME, found, Some(fix))
}

fn make_partition(mount: &str, cpu: u32) -> String {
    let dir = format!("{mount}/isolated{cpu}");
    format!(
        "echo +cpuset > {mount}/cgroup.subtree_control; mkdir {dir}; \
         echo {cpu} > {dir}/cpuset.cpus; echo isolated > {dir}/cpuset.cpus.partition"
    )
}

fn find_partition(tree: &Tree, cpu: u32) -> Partition {
    let mounts = cgroup2_mounts(tree);
    let Some(first) = mounts.first() else {
        return Partition::NoCgroup2;
    };
    for mount in &mounts {
        let controllers = tree
            .read(&format!("{mount}/cgroup.controllers"))
            .ok()
            .flatten()
            .unwrap_or_default();
        if !controllers.split_whitespace().any(|c| c == "cpuset") {
            continue;
        }
        let mut found = Partition::None {
            mount: display(mount),
        };
        let mut budget = MAX_CGROUPS;
        walk(tree, mount, 0, cpu, &mut budget, &mut found);
        return found;
    }
    Partition::NoCpusetController {
        mount: display(first),
    }
}

/// Looks at `dir` and its children for a partition holding `cpu`; stops at a valid one.
fn walk(tree: &Tree, dir: &str, depth: usize, cpu: u32, budget: &mut usize, found: &mut Partition) {
    if *budget == 0 || matches!(found, Partition::Isolated { .. }) {
        return;
    }
    *budget -= 1;
    let state = tree
        .read(&format!("{dir}/cpuset.cpus.partition"))
        .ok()
        .flatten()
        .map(|s| s.trim().to_owned());
    if let Some(state) = state.filter(|s| s.starts_with("isolated")) {
        let list = |file: &str| {
            tree.read(&format!("{dir}/{file}"))
                .ok()
                .flatten()
                .and_then(|t| cpulist::parse(&t).ok())
                .unwrap_or_default()
        };
        if state == "isolated" {
            let cpus = list("cpuset.cpus.effective");
            if cpus.contains(cpu) {
                *found = Partition::Isolated {
                    cgroup: display(dir),
                    cpus,
                };
                return;
            }
        } else if list("cpuset.cpus").contains(cpu) {
            *found = Partition::Invalid {
                cgroup: display(dir),
                state,
            };
        }
    }
    if depth >= MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(tree.path(dir)) else {
        return;
    };
    let mut children: Vec<String> = entries
        .filter_map(|e| {
            let e = e.ok()?;
            // Not following links: cgroupfs has none, and a fake tree must not loop.
            e.file_type().ok()?.is_dir().then_some(())?;
            Some(e.file_name().to_str()?.to_owned())
        })
        .collect();
    children.sort();
    for child in children {
        walk(
            tree,
            &format!("{dir}/{child}"),
            depth + 1,
            cpu,
            budget,
            found,
        );
    }
}

/// Mount points of cgroup2 filesystems (relative to the root, without the leading '/'),
/// from /proc/self/mounts; the usual places when that cannot be read.
fn cgroup2_mounts(tree: &Tree) -> Vec<String> {
    let from_mounts: Vec<String> = tree
        .read("proc/self/mounts")
        .ok()
        .flatten()
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let (_, point, fstype) = (fields.next()?, fields.next()?, fields.next()?);
            (fstype == "cgroup2").then(|| unescape(point))
        })
        .collect();
    let candidates = if from_mounts.is_empty() {
        vec![
            "/sys/fs/cgroup".to_owned(),
            "/sys/fs/cgroup/unified".to_owned(),
        ]
    } else {
        from_mounts
    };
    candidates
        .into_iter()
        .map(|p| p.trim_start_matches('/').to_owned())
        .filter(|p| tree.path(&format!("{p}/cgroup.controllers")).exists())
        .collect()
}

/// /proc/mounts escapes space, tab, newline and backslash as \ooo octal.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            let s = std::str::from_utf8(d).ok()?;
            u8::from_str_radix(s, 8).ok()
        });
        match (bytes[i], octal) {
            (b'\\', Some(b)) => {
                out.push(b);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_mount_points() {
        assert_eq!(unescape("/sys/fs/cgroup"), "/sys/fs/cgroup");
        assert_eq!(unescape("/mnt/a\\040b"), "/mnt/a b");
        assert_eq!(unescape("/x\\"), "/x\\");
    }
}
