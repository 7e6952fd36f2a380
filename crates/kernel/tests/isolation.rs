//! The isolation check against fake /sys and /proc trees built in a temporary directory:
//! a machine set up for isolation passes every check, and each way of getting one wrong
//! gives the status and the fix a low-latency engineer expects. Then the real machine.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use taskwatch_kernel::isolation::{check_cpu, Check, Error, Report, Status};

/// A directory under the system temp dir, removed when dropped.
struct FakeRoot {
    dir: PathBuf,
}

const PF_KTHREAD: u32 = 0x0020_0000;
const PF_NO_SETAFFINITY: u32 = 0x0400_0000;

impl FakeRoot {
    fn empty() -> FakeRoot {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "taskwatch-isolation-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        FakeRoot { dir }
    }

    /// Four CPUs, 2-3 isolated every way there is; CPU 3 passes every check.
    fn isolated() -> FakeRoot {
        let root = FakeRoot::empty();
        let cpu = "sys/devices/system/cpu";
        root.write(&format!("{cpu}/possible"), "0-3\n");
        root.write(&format!("{cpu}/present"), "0-3\n");
        root.write(&format!("{cpu}/online"), "0-3\n");
        root.write(&format!("{cpu}/kernel_max"), "7\n");
        root.write(&format!("{cpu}/nohz_full"), "2-3\n");
        root.write(&format!("{cpu}/isolated"), "2-3\n");
        root.write(&format!("{cpu}/cpu3/topology/thread_siblings_list"), "3\n");
        root.write(
            "proc/cmdline",
            "BOOT_IMAGE=/vmlinuz ro nohz_full=2-3 isolcpus=domain,managed_irq,2-3 \
             rcu_nocbs=2-3 rcu_nocb_poll\n",
        );
        root.write(
            "proc/self/mounts",
            "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n",
        );
        root.write(
            "sys/fs/cgroup/cgroup.controllers",
            "cpuset cpu io memory pids\n",
        );
        root.write("sys/fs/cgroup/rt/cpuset.cpus.partition", "isolated\n");
        root.write("sys/fs/cgroup/rt/cpuset.cpus", "2-3\n");
        root.write("sys/fs/cgroup/rt/cpuset.cpus.effective", "2-3\n");
        root.irq(10, "0-1", Some("0"));
        root.write("proc/irq/11/smp_affinity_list", "0-3\n"); // no handler
        root.write("proc/irq/default_smp_affinity", "3\n");
        root.write(
            "proc/interrupts",
            "           CPU0       CPU1       CPU2       CPU3\n \
             10:        500          7          0          0   IO-APIC  10-edge  eth0\n\
             LOC:      1000       1000        100         10   Local timer interrupts\n",
        );
        root.write("sys/devices/virtual/workqueue/cpumask", "3\n");
        root.task(1, "systemd", 0x0040_0100, "0-3");
        root.task(2, "kthreadd", PF_KTHREAD | 0x8040, "0-1");
        root.task(30, "ksoftirqd/3", PF_KTHREAD | 0x8040, "3");
        root.write("proc/sys/kernel/watchdog", "1\n");
        root.write("proc/sys/kernel/soft_watchdog", "1\n");
        root.write("proc/sys/kernel/nmi_watchdog", "0\n");
        root.write("proc/sys/kernel/watchdog_cpumask", "0-1\n");
        root.write("proc/sys/kernel/watchdog_thresh", "10\n");
        root.write("proc/sys/vm/stat_interval", "10\n");
        root.write("proc/sys/kernel/timer_migration", "0\n");
        let clock = "sys/devices/system/clocksource/clocksource0";
        root.write(&format!("{clock}/current_clocksource"), "tsc\n");
        root.write(
            &format!("{clock}/available_clocksource"),
            "tsc hpet acpi_pm \n",
        );
        root.write(
            "proc/stat",
            "cpu  40 0 40 400 0 0 0 0 0 0\ncpu0 10 0 10 100 0 0 0 0 0 0\n\
             cpu1 10 0 10 100 0 0 0 0 0 0\ncpu2 10 0 10 100 0 0 0 0 0 0\n\
             cpu3 10 0 10 100 0 0 0 0 0 0\nintr 0\n",
        );
        root
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn remove(&self, rel: &str) {
        std::fs::remove_file(self.path(rel)).unwrap();
    }

    /// An IRQ with an smp_affinity_list and, when given, an effective_affinity_list.
    fn irq(&self, n: u32, allowed: &str, effective: Option<&str>) {
        self.write(
            &format!("proc/irq/{n}/smp_affinity_list"),
            &format!("{allowed}\n"),
        );
        if let Some(eff) = effective {
            self.write(
                &format!("proc/irq/{n}/effective_affinity_list"),
                &format!("{eff}\n"),
            );
        }
    }

    /// A /proc/PID with stat and status.
    fn task(&self, pid: u32, comm: &str, flags: u32, allowed: &str) {
        let short: String = comm.chars().take(15).collect();
        self.write(
            &format!("proc/{pid}/stat"),
            &format!("{pid} ({short}) S 2 0 0 0 -1 {flags} 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0\n"),
        );
        self.write(
            &format!("proc/{pid}/status"),
            &format!("Name:\t{comm}\nState:\tS (sleeping)\nCpus_allowed_list:\t{allowed}\n"),
        );
    }

    fn check(&self, cpu: u32) -> Report {
        check_cpu(cpu, &self.dir).unwrap()
    }
}

impl Drop for FakeRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn get<'a>(report: &'a Report, name: &str) -> &'a Check {
    report
        .get(name)
        .unwrap_or_else(|| panic!("no check {name} in {report:#?}"))
}

fn fix(check: &Check) -> &str {
    check
        .fix
        .as_deref()
        .unwrap_or_else(|| panic!("no fix: {check:#?}"))
}

const ORDER: [&str; 16] = [
    "cpu",
    "nohz_full",
    "isolcpus",
    "cpuset_partition",
    "rcu_nocbs",
    "irq_affinity",
    "default_smp_affinity",
    "workqueue_cpumask",
    "kthreads",
    "watchdog",
    "nmi_watchdog",
    "vm_stat_interval",
    "timer_migration",
    "smt_sibling",
    "clocksource",
    "steal_time",
];

#[test]
fn an_isolated_cpu_passes_every_check() {
    let root = FakeRoot::isolated();
    let report = root.check(3);
    let names: Vec<&str> = report.checks.iter().map(|c| c.name).collect();
    assert_eq!(names, ORDER);
    for check in &report.checks {
        assert_eq!(check.status, Status::Pass, "{check:#?}");
        assert_eq!(check.fix, None, "{check:#?}");
    }
    assert!(report.suitable());
    assert_eq!(report.worst(), Status::Pass);
    assert_eq!(report.cpu, 3);
    let kthreads = get(&report, "kthreads");
    assert!(
        kthreads.found.contains("1 per-CPU kthread is bound"),
        "{kthreads:?}"
    );
    assert!(get(&report, "cpuset_partition")
        .found
        .contains("/sys/fs/cgroup/rt"));
}

#[test]
fn a_housekeeping_cpu_of_the_same_machine_does_not_pass() {
    let root = FakeRoot::isolated();
    let report = root.check(0);
    assert!(!report.suitable());
    assert_eq!(get(&report, "nohz_full").status, Status::Fail);
    assert_eq!(get(&report, "irq_affinity").status, Status::Fail);
    assert_eq!(get(&report, "kthreads").status, Status::Warn);
    assert!(fix(get(&report, "nohz_full")).contains("nohz_full=0,2-3"));
}

// ---- cpu ----

#[test]
fn a_cpu_that_does_not_exist_is_reported_alone() {
    let root = FakeRoot::isolated();
    let report = root.check(9);
    assert_eq!(report.checks.len(), 1);
    let cpu = get(&report, "cpu");
    assert_eq!(cpu.status, Status::Fail);
    assert_eq!(
        cpu.found,
        "CPU 9 does not exist: this machine's CPUs are 0-3 (nr_cpu_ids 4)"
    );
    assert_eq!(fix(cpu), "choose one of the online CPUs 0-3");
    assert!(!report.suitable());
}

#[test]
fn an_offline_cpu_fails_with_the_file_to_write() {
    let root = FakeRoot::isolated();
    root.write("sys/devices/system/cpu/online", "0-2\n");
    let report = root.check(3);
    let cpu = get(&report, "cpu");
    assert_eq!(cpu.status, Status::Fail);
    assert!(cpu.found.contains("CPU 3 is offline"), "{cpu:?}");
    assert_eq!(fix(cpu), "echo 1 > /sys/devices/system/cpu/cpu3/online");
    assert_eq!(
        report.checks.len(),
        ORDER.len(),
        "the other checks are still made"
    );
}

#[test]
fn a_cpu_not_present_fails() {
    let root = FakeRoot::isolated();
    root.write("sys/devices/system/cpu/present", "0-2\n");
    root.write("sys/devices/system/cpu/online", "0-2\n");
    let cpu = get(&root.check(3), "cpu").clone();
    assert_eq!(cpu.status, Status::Fail);
    assert!(cpu.found.contains("not present"), "{cpu:?}");
}

#[test]
fn the_only_online_cpu_cannot_be_isolated() {
    let root = FakeRoot::isolated();
    root.write("sys/devices/system/cpu/online", "3\n");
    let cpu = get(&root.check(3), "cpu").clone();
    assert_eq!(cpu.status, Status::Fail);
    assert!(cpu.found.contains("the only online CPU"), "{cpu:?}");
}

#[test]
fn without_cpu_files_there_is_no_report() {
    let root = FakeRoot::empty();
    assert!(matches!(check_cpu(0, &root.dir), Err(Error::Cpus(_))));
    root.write("sys/devices/system/cpu/possible", "x\n");
    let e = check_cpu(0, &root.dir).unwrap_err();
    assert!(e.to_string().contains("cannot parse"), "{e}");
}

// ---- nohz_full and rcu_nocbs ----

#[test]
fn nohz_full_absent_fails() {
    let root = FakeRoot::isolated();
    root.remove("sys/devices/system/cpu/nohz_full");
    let report = root.check(3);
    let nohz = get(&report, "nohz_full");
    assert_eq!(nohz.status, Status::Fail);
    assert!(nohz.found.contains("is absent"), "{nohz:?}");
    assert!(fix(nohz).starts_with("boot with nohz_full=3"), "{nohz:?}");
    assert!(!report.suitable());
    assert!(
        nohz.found
            .ends_with("; nohz_full=2-3 on the command line had no effect"),
        "{nohz:?}"
    );
    // rcu_nocbs= on the command line still covers RCU.
    assert_eq!(get(&report, "rcu_nocbs").status, Status::Pass);
}

#[test]
fn nohz_full_empty_or_null_fails() {
    let root = FakeRoot::isolated();
    for (text, says) in [
        ("", "built without nohz_full"),
        ("\n", "no CPU is nohz_full"),
        ("(null)\n", "no CPU is nohz_full"),
    ] {
        root.write("sys/devices/system/cpu/nohz_full", text);
        let nohz = get(&root.check(3), "nohz_full").clone();
        assert_eq!(nohz.status, Status::Fail, "{text:?}");
        assert!(nohz.found.contains(says), "{text:?}: {nohz:?}");
        assert!(fix(&nohz).starts_with("boot with nohz_full=3 "), "{nohz:?}");
    }
}

#[test]
fn nohz_full_on_other_cpus_fails_with_the_union() {
    let root = FakeRoot::isolated();
    root.write("sys/devices/system/cpu/nohz_full", "1-2\n");
    let nohz = get(&root.check(3), "nohz_full").clone();
    assert_eq!(nohz.status, Status::Fail);
    assert!(nohz.found.contains("nohz_full: 1-2"), "{nohz:?}");
    assert!(
        fix(&nohz).starts_with("boot with nohz_full=1-3 "),
        "{nohz:?}"
    );
}

#[test]
fn rcu_nocbs_is_implied_by_nohz_full() {
    let root = FakeRoot::isolated();
    root.write("proc/cmdline", "ro nohz_full=2-3\n");
    let rcu = get(&root.check(3), "rcu_nocbs").clone();
    assert_eq!(rcu.status, Status::Pass);
    assert!(rcu.found.contains("nohz_full implies"), "{rcu:?}");
}

#[test]
fn rcu_callbacks_on_the_cpu_warn() {
    let root = FakeRoot::isolated();
    root.remove("sys/devices/system/cpu/nohz_full");
    for cmdline in ["ro quiet\n", "rcu_nocbs=1\n", "rcu_nocbs\n"] {
        root.write("proc/cmdline", cmdline);
        let rcu = get(&root.check(3), "rcu_nocbs").clone();
        assert_eq!(rcu.status, Status::Warn, "{cmdline:?}");
        assert!(fix(&rcu).starts_with("boot with rcu_nocbs=3"), "{rcu:?}");
    }
    root.write("proc/cmdline", "rcu_nocbs=2-x\n");
    let rcu = get(&root.check(3), "rcu_nocbs").clone();
    assert_eq!(rcu.status, Status::Warn);
    assert!(rcu.found.contains("garbage 'x' at position 2"), "{rcu:?}");
    root.write("proc/cmdline", "rcu-nocbs=all\n");
    assert_eq!(get(&root.check(3), "rcu_nocbs").status, Status::Pass);
}

// ---- isolcpus and cpuset partitions ----

#[test]
fn no_scheduler_isolation_warns_twice() {
    let root = FakeRoot::isolated();
    root.write("sys/devices/system/cpu/isolated", "\n");
    root.remove("sys/fs/cgroup/rt/cpuset.cpus.partition");
    let report = root.check(3);
    let isol = get(&report, "isolcpus");
    assert_eq!(isol.status, Status::Warn);
    assert!(isol.found.contains("isolated: none"), "{isol:?}");
    assert!(fix(isol).starts_with("boot with isolcpus=domain,managed_irq,3"));
    let cpuset = get(&report, "cpuset_partition");
    assert_eq!(cpuset.status, Status::Warn);
    assert_eq!(
        fix(cpuset),
        "echo +cpuset > /sys/fs/cgroup/cgroup.subtree_control; mkdir /sys/fs/cgroup/isolated3; \
         echo 3 > /sys/fs/cgroup/isolated3/cpuset.cpus; \
         echo isolated > /sys/fs/cgroup/isolated3/cpuset.cpus.partition"
    );
    assert!(report.suitable(), "warnings only");
}

#[test]
fn either_isolcpus_or_a_partition_is_enough() {
    let root = FakeRoot::isolated();
    root.write("sys/devices/system/cpu/isolated", "\n");
    let report = root.check(3);
    let isol = get(&report, "isolcpus");
    assert_eq!(isol.status, Status::Pass);
    assert!(
        isol.found.contains("/sys/fs/cgroup/rt holds it"),
        "{isol:?}"
    );

    let root = FakeRoot::isolated();
    root.remove("sys/fs/cgroup/rt/cpuset.cpus.partition");
    let cpuset = get(&root.check(3), "cpuset_partition").clone();
    assert_eq!(cpuset.status, Status::Pass);
    assert!(cpuset.found.contains("not needed"), "{cpuset:?}");
}

#[test]
fn invalid_partitions_and_missing_controllers_warn() {
    let root = FakeRoot::isolated();
    root.write("sys/devices/system/cpu/isolated", "\n");
    root.write(
        "sys/fs/cgroup/rt/cpuset.cpus.partition",
        "isolated invalid (Cpu list in cpuset.cpus not exclusive)\n",
    );
    let cpuset = get(&root.check(3), "cpuset_partition").clone();
    assert_eq!(cpuset.status, Status::Warn);
    assert!(cpuset.found.contains("not exclusive"), "{cpuset:?}");

    root.write("sys/fs/cgroup/cgroup.controllers", "cpu io memory\n");
    let cpuset = get(&root.check(3), "cpuset_partition").clone();
    assert_eq!(cpuset.status, Status::Warn);
    assert!(cpuset.found.contains("cpuset controller is not available"));
    assert!(fix(&cpuset).starts_with("boot with cgroup_no_v1=cpuset"));

    root.remove("proc/self/mounts");
    root.remove("sys/fs/cgroup/cgroup.controllers");
    let cpuset = get(&root.check(3), "cpuset_partition").clone();
    assert_eq!(cpuset.found, "no cgroup v2 hierarchy is mounted");
}

#[test]
fn partitions_are_found_in_nested_cgroups_at_any_mount() {
    let root = FakeRoot::isolated();
    root.write("sys/devices/system/cpu/isolated", "\n");
    root.remove("sys/fs/cgroup/rt/cpuset.cpus.partition");
    root.write(
        "proc/self/mounts",
        "cgroup /sys/fs/cgroup/cpu cgroup rw 0 0\ncgroup2 /sys/fs/cgroup/uni\\040fied cgroup2 rw 0 0\n",
    );
    let base = "sys/fs/cgroup/uni fied";
    root.write(&format!("{base}/cgroup.controllers"), "cpuset\n");
    root.write(&format!("{base}/a/b/cpuset.cpus.partition"), "isolated\n");
    root.write(&format!("{base}/a/b/cpuset.cpus.effective"), "3\n");
    let cpuset = get(&root.check(3), "cpuset_partition").clone();
    assert_eq!(cpuset.status, Status::Pass);
    assert!(
        cpuset.found.contains("/sys/fs/cgroup/uni fied/a/b"),
        "{cpuset:?}"
    );
}

// ---- IRQs ----

#[test]
fn an_irq_routed_to_the_cpu_fails_with_the_move() {
    let root = FakeRoot::isolated();
    root.irq(10, "0-3", Some("3"));
    let report = root.check(3);
    let irq = get(&report, "irq_affinity");
    assert_eq!(irq.status, Status::Fail);
    assert!(irq.found.contains("1 IRQ is routed to CPU 3"), "{irq:?}");
    assert!(irq.found.contains("10 eth0 (0)"), "{irq:?}");
    assert!(
        fix(irq).starts_with("for i in 10; do echo 0-1 > /proc/irq/$i/smp_affinity_list; done"),
        "{irq:?}"
    );
    assert!(!report.suitable());
}

#[test]
fn an_irq_merely_allowed_on_the_cpu_warns() {
    let root = FakeRoot::isolated();
    root.irq(10, "0-3", Some("0"));
    let irq = get(&root.check(3), "irq_affinity").clone();
    assert_eq!(irq.status, Status::Warn);
    assert!(irq.found.contains("1 IRQ may be moved to CPU 3"), "{irq:?}");
    assert!(fix(&irq).contains("for i in 10;"), "{irq:?}");
}

#[test]
fn without_effective_affinity_a_single_cpu_affinity_is_routed() {
    let root = FakeRoot::isolated();
    root.remove("proc/irq/10/effective_affinity_list");
    root.irq(10, "3", None);
    assert_eq!(get(&root.check(3), "irq_affinity").status, Status::Fail);
    root.irq(10, "2-3", None);
    assert_eq!(get(&root.check(3), "irq_affinity").status, Status::Warn);
}

#[test]
fn unmovable_irqs_warn_and_are_left_out_of_the_fix() {
    let root = FakeRoot::isolated();
    root.irq(10, "3", Some("3"));
    root.write(
        "sys/kernel/debug/irq/irqs/10",
        "handler:  handle_edge_irq\ndstate:   0x3540\n            IRQD_AFFINITY_MANAGED\n",
    );
    let irq = get(&root.check(3), "irq_affinity").clone();
    assert_eq!(irq.status, Status::Warn);
    assert!(irq.found.contains("cannot be moved: 10"), "{irq:?}");
    assert_eq!(irq.fix, None);
}

#[test]
fn irq_names_come_from_sysfs_actions_and_irqbalance_is_named() {
    let root = FakeRoot::isolated();
    root.irq(10, "0-3", Some("3"));
    root.write("sys/kernel/irq/10/actions", "eth0-rx,eth0-tx\n");
    root.task(500, "irqbalance", 0x0040_0100, "0-3");
    let irq = get(&root.check(3), "irq_affinity").clone();
    assert!(irq.found.contains("10 eth0-rx,eth0-tx"), "{irq:?}");
    assert!(fix(&irq).contains("irqbalance (pid 500)"), "{irq:?}");
    assert!(fix(&irq).contains("IRQBALANCE_BANNED_CPULIST=3"), "{irq:?}");
}

#[test]
fn default_smp_affinity_including_the_cpu_warns_with_a_mask() {
    let root = FakeRoot::isolated();
    root.write("proc/irq/default_smp_affinity", "f\n");
    let default = get(&root.check(3), "default_smp_affinity").clone();
    assert_eq!(default.status, Status::Warn);
    assert!(default.found.contains("f = CPUs 0-3"), "{default:?}");
    assert_eq!(fix(&default), "echo 3 > /proc/irq/default_smp_affinity");
}

// ---- workqueues and kernel threads ----

#[test]
fn workqueue_cpumask_including_the_cpu_warns() {
    let root = FakeRoot::isolated();
    root.write("sys/devices/virtual/workqueue/cpumask", "f\n");
    let wq = get(&root.check(3), "workqueue_cpumask").clone();
    assert_eq!(wq.status, Status::Warn);
    assert_eq!(fix(&wq), "echo 3 > /sys/devices/virtual/workqueue/cpumask");
    root.remove("sys/devices/virtual/workqueue/cpumask");
    let wq = get(&root.check(3), "workqueue_cpumask").clone();
    assert_eq!(wq.status, Status::Warn);
    assert!(wq.found.contains("is absent"), "{wq:?}");
}

#[test]
fn roaming_kthreads_warn_with_taskset() {
    let root = FakeRoot::isolated();
    root.task(2, "kthreadd", PF_KTHREAD | 0x8040, "0-3");
    root.task(
        40,
        "kworker/u8:1-events_unbound",
        PF_KTHREAD | PF_NO_SETAFFINITY | 0x20,
        "0-3",
    );
    let k = get(&root.check(3), "kthreads").clone();
    assert_eq!(k.status, Status::Warn);
    assert!(
        k.found.starts_with(
            "2 kernel threads may run on CPU 3: kthreadd[2], kworker/u8:1-events_unbound[40]"
        ),
        "{k:?}"
    );
    assert!(k.found.contains("1 per-CPU kthread is bound"), "{k:?}");
    let fix = fix(&k);
    assert!(
        fix.starts_with("for p in 2; do taskset -pc 0-1 $p; done"),
        "{fix}"
    );
    assert!(fix.contains("the other 1 are workqueue workers"), "{fix}");
    assert!(
        !fix.contains("nohz_full"),
        "CPU 3 is nohz_full already: {fix}"
    );
}

// ---- sysctls ----

#[test]
fn watchdogs_on_the_cpu_warn() {
    let root = FakeRoot::isolated();
    root.write("proc/sys/kernel/watchdog_cpumask", "0-3\n");
    root.write("proc/sys/kernel/nmi_watchdog", "1\n");
    let report = root.check(3);
    let soft = get(&report, "watchdog");
    assert_eq!(soft.status, Status::Warn);
    assert!(soft.found.contains("every 4.0s"), "{soft:?}");
    assert!(fix(soft).starts_with("sysctl -w kernel.watchdog_cpumask=0-1"));
    let nmi = get(&report, "nmi_watchdog");
    assert_eq!(nmi.status, Status::Warn);
    assert!(fix(nmi).starts_with("sysctl -w kernel.nmi_watchdog=0"));

    root.write("proc/sys/kernel/watchdog", "0\n");
    let report = root.check(3);
    assert_eq!(get(&report, "watchdog").status, Status::Pass);
    assert_eq!(get(&report, "nmi_watchdog").status, Status::Pass);

    for file in [
        "watchdog",
        "nmi_watchdog",
        "watchdog_cpumask",
        "soft_watchdog",
    ] {
        root.remove(&format!("proc/sys/kernel/{file}"));
    }
    let report = root.check(3);
    assert!(get(&report, "watchdog")
        .found
        .contains("no lockup detector"));
    assert_eq!(get(&report, "nmi_watchdog").status, Status::Pass);
}

#[test]
fn stat_interval_and_timer_migration_warn_at_their_defaults() {
    let root = FakeRoot::isolated();
    root.write("proc/sys/vm/stat_interval", "1\n");
    root.write("proc/sys/kernel/timer_migration", "1\n");
    let report = root.check(3);
    let stat = get(&report, "vm_stat_interval");
    assert_eq!(stat.status, Status::Warn);
    assert_eq!(fix(stat), "sysctl -w vm.stat_interval=10");
    let timer = get(&report, "timer_migration");
    assert_eq!(timer.status, Status::Warn);
    assert_eq!(fix(timer), "sysctl -w kernel.timer_migration=0");
}

// ---- hardware ----

#[test]
fn an_online_smt_sibling_warns() {
    let root = FakeRoot::isolated();
    root.write(
        "sys/devices/system/cpu/cpu3/topology/thread_siblings_list",
        "1,3\n",
    );
    let smt = get(&root.check(3), "smt_sibling").clone();
    assert_eq!(smt.status, Status::Warn);
    assert!(smt.found.contains("shares its core with CPU 1"), "{smt:?}");
    assert!(fix(&smt).starts_with("echo 0 > /sys/devices/system/cpu/cpu1/online"));
    root.write("sys/devices/system/cpu/online", "0,2-3\n");
    let smt = get(&root.check(3), "smt_sibling").clone();
    assert_eq!(smt.status, Status::Pass);
    assert!(smt.found.contains("is offline"), "{smt:?}");
}

#[test]
fn clocksources_other_than_tsc_warn() {
    let root = FakeRoot::isolated();
    let current = "sys/devices/system/clocksource/clocksource0/current_clocksource";
    root.write(current, "hpet\n");
    let clock = get(&root.check(3), "clocksource").clone();
    assert_eq!(clock.status, Status::Warn);
    assert!(clock.found.contains("enters the kernel"), "{clock:?}");
    assert_eq!(
        fix(&clock),
        "echo tsc > /sys/devices/system/clocksource/clocksource0/current_clocksource"
    );
    root.write(current, "kvm-clock\n");
    root.write(
        "sys/devices/system/clocksource/clocksource0/available_clocksource",
        "kvm-clock hpet\n",
    );
    let clock = get(&root.check(3), "clocksource").clone();
    assert_eq!(clock.status, Status::Warn);
    assert!(clock.found.contains("paravirtual"), "{clock:?}");
    assert!(fix(&clock).contains("tsc=reliable"), "{clock:?}");
}

#[test]
fn steal_time_says_it_is_a_vm() {
    let root = FakeRoot::isolated();
    root.write(
        "proc/stat",
        "cpu  1 0 1 1 0 0 0 50 0 0\ncpu3 10 0 10 100 0 0 0 50 0 0\n",
    );
    let steal = get(&root.check(3), "steal_time").clone();
    assert_eq!(steal.status, Status::Warn);
    assert!(steal.found.contains("is a virtual CPU"), "{steal:?}");
    assert!(steal.found.contains("50 ticks of steal time"), "{steal:?}");
}

// ---- files that exist but say nothing useful ----

#[test]
fn unreadable_or_garbled_files_make_warnings_not_errors() {
    let root = FakeRoot::isolated();
    root.remove("proc/sys/vm/stat_interval");
    std::fs::create_dir_all(root.path("proc/sys/vm/stat_interval")).unwrap();
    root.write("proc/sys/kernel/timer_migration", "yes\n");
    root.write("sys/devices/system/cpu/nohz_full", "2-x\n");
    let report = root.check(3);
    let stat = get(&report, "vm_stat_interval");
    assert_eq!(stat.status, Status::Warn);
    assert!(
        stat.found
            .starts_with("cannot read /proc/sys/vm/stat_interval"),
        "{stat:?}"
    );
    let timer = get(&report, "timer_migration");
    assert_eq!(timer.status, Status::Warn);
    assert!(timer.found.contains("\"yes\" is not a number"), "{timer:?}");
    let nohz = get(&report, "nohz_full");
    assert_eq!(nohz.status, Status::Warn);
    assert!(nohz.found.contains("garbage 'x'"), "{nohz:?}");
}

#[test]
fn a_tree_with_only_the_cpu_files_reports_every_feature_absent() {
    let root = FakeRoot::empty();
    for file in ["possible", "present", "online"] {
        root.write(&format!("sys/devices/system/cpu/{file}"), "0-1\n");
    }
    let report = root.check(1);
    assert_eq!(report.checks.len(), ORDER.len());
    assert_eq!(get(&report, "nohz_full").status, Status::Fail);
    assert_eq!(get(&report, "cpu").status, Status::Pass);
    assert!(!report.suitable());
}

// ---- this machine ----

#[test]
fn this_machine_cpu_1_nohz_full_fails_when_it_has_none() {
    let nohz = std::fs::read_to_string("/sys/devices/system/cpu/nohz_full").unwrap_or_default();
    let none = matches!(nohz.trim(), "" | "(null)");
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap_or_default();
    if !none || online.trim() == "0" {
        eprintln!("skipped: this machine has nohz_full {nohz:?}, online {online:?}");
        return;
    }
    let report = check_cpu(1, Path::new("/")).unwrap();
    assert_eq!(report.checks.len(), ORDER.len(), "{report:#?}");
    let check = get(&report, "nohz_full");
    assert_eq!(check.status, Status::Fail, "{check:#?}");
    assert!(
        fix(check).starts_with("boot with nohz_full=1"),
        "{check:#?}"
    );
    assert!(!report.suitable());
}

#[test]
fn this_machine_has_no_cpu_9999() {
    let report = check_cpu(9999, Path::new("/")).unwrap();
    assert_eq!(report.checks.len(), 1);
    let cpu = get(&report, "cpu");
    assert_eq!(cpu.status, Status::Fail);
    assert!(cpu.found.starts_with("CPU 9999 does not exist"), "{cpu:?}");
    assert!(!report.suitable());
}
