//! A stream of raw perf tracepoint records, decoded with a `Decoder` built from the real
//! tracefs `format` files of every traced event (captured on 6.18, in ../formats), each
//! decoded `Event` fed to an `Attributor` and its interruptions to a `Summary`, as
//! `isolate run` does. Nothing may panic; a decoded event keeps its time and CPU; an
//! event completes at most one interruption, which does not end before it starts.
//!
//! Input: a header, then records until the input runs out.
//!   header: flags (bits 0-1 the watched CPU, bit 2 nohz_full, bit 3 a small symbol table
//!           instead of an empty one), then the first record's time (u64 LE).
//!   record: selector (u8: the tracepoint whose id is written into the record's first two
//!           bytes, by index in the list below; an index past it keeps the bytes as they
//!           are), length (u8), CPU (u8, 0-3), time delta (u16 LE), then `length` raw bytes.
//! Odd pids are the watched program's.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use taskwatch_isolate::attribution::{Attributor, Summary, TickContext};
use taskwatch_isolate::trace::events::{Decoder, Tracepoint, ON_SENDERS, ON_TARGET};
use taskwatch_isolate::trace::symbols::Symbols;

macro_rules! formats {
    ($($system:literal / $event:literal),* $(,)?) => {
        &[$((
            concat!($system, ":", $event),
            include_str!(concat!("../formats/", $system, ".", $event, ".format")),
        )),*]
    };
}

/// Every tracepoint of `ON_TARGET` and `ON_SENDERS`, as (`system:event`, format text).
const FORMATS: &[(&str, &str)] = formats![
    "irq" / "irq_handler_entry",
    "irq" / "irq_handler_exit",
    "irq" / "softirq_entry",
    "irq" / "softirq_exit",
    "irq_vectors" / "local_timer_entry",
    "irq_vectors" / "local_timer_exit",
    "irq_vectors" / "call_function_entry",
    "irq_vectors" / "call_function_exit",
    "irq_vectors" / "call_function_single_entry",
    "irq_vectors" / "call_function_single_exit",
    "irq_vectors" / "reschedule_entry",
    "irq_vectors" / "reschedule_exit",
    "irq_vectors" / "irq_work_entry",
    "irq_vectors" / "x86_platform_ipi_entry",
    "irq_vectors" / "x86_platform_ipi_exit",
    "irq_vectors" / "thermal_apic_entry",
    "irq_vectors" / "thermal_apic_exit",
    "irq_vectors" / "error_apic_entry",
    "irq_vectors" / "error_apic_exit",
    "irq_vectors" / "spurious_apic_entry",
    "irq_vectors" / "spurious_apic_exit",
    "csd" / "csd_function_entry",
    "workqueue" / "workqueue_execute_start",
    "workqueue" / "workqueue_execute_end",
    "timer" / "tick_stop",
    "timer" / "hrtimer_expire_entry",
    "timer" / "hrtimer_expire_exit",
    "timer" / "timer_expire_entry",
    "timer" / "timer_expire_exit",
    "sched" / "sched_switch",
    "sched" / "sched_migrate_task",
    "raw_syscalls" / "sys_enter",
    "raw_syscalls" / "sys_exit",
    "exceptions" / "page_fault_user",
    "nmi" / "nmi_handler",
    "ipi" / "ipi_send_cpu",
    "ipi" / "ipi_send_cpumask",
];

/// Addresses the seeds use for named callbacks (make_seeds.py has the same table).
const KALLSYMS: &str = "ffffffff81000000 T _text\n\
    ffffffff814352e0 t tick_nohz_handler\n\
    ffffffff81435400 T hrtimer_wakeup\n\
    ffffffff81500000 T ttwu_queue_wakelist\n\
    ffffffff81600000 T vmstat_update\n";

struct Setup {
    ids: Vec<u16>,
    /// One decoder per watched CPU 0-3.
    decoders: Vec<Decoder>,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        // The captured files are exactly the traced list, and all of them parse.
        let traced: Vec<String> = ON_TARGET
            .iter()
            .chain(ON_SENDERS)
            .map(|(s, e)| format!("{s}:{e}"))
            .collect();
        let captured: Vec<&str> = FORMATS.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            traced, captured,
            "formats/ out of step with the traced list"
        );
        let tracepoints: Vec<Tracepoint> = FORMATS
            .iter()
            .map(|(name, text)| {
                Tracepoint::from_format(name, text)
                    .unwrap_or_else(|| panic!("captured format of {name} does not parse"))
            })
            .collect();
        Setup {
            ids: tracepoints.iter().map(|t| t.id).collect(),
            decoders: (0..4)
                .map(|cpu| Decoder::new(tracepoints.iter().cloned(), cpu))
                .collect(),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let setup = setup();
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Some((time, mut rest)) = rest.split_first_chunk::<8>() else {
        return;
    };
    let target_cpu = u32::from(flags & 3);
    let decoder = &setup.decoders[target_cpu as usize];
    let symbols = if flags & 8 != 0 {
        Symbols::parse(KALLSYMS)
    } else {
        Symbols::parse("")
    };
    let mut attributor = Attributor::new(
        target_cpu,
        TickContext {
            nohz_full: flags & 4 != 0,
        },
        symbols,
        |pid| pid % 2 == 1,
    );
    let mut summary = Summary::default();
    let mut time_ns = u64::from_le_bytes(*time);
    let mut interruptions = Vec::new();
    let mut raw = Vec::with_capacity(256);
    while let Some((head, tail)) = rest.split_first_chunk::<5>() {
        let [selector, len, cpu, d0, d1] = *head;
        let len = usize::from(len).min(tail.len());
        let cpu = u32::from(cpu & 3);
        time_ns = time_ns.saturating_add(u64::from(u16::from_le_bytes([d0, d1])));
        raw.clear();
        raw.extend_from_slice(&tail[..len]);
        rest = &tail[len..];
        if let (Some(id), Some(slot)) = (setup.ids.get(usize::from(selector)), raw.get_mut(..2)) {
            slot.copy_from_slice(&id.to_ne_bytes());
        }

        let Some(event) = decoder.decode(&raw, time_ns, cpu) else {
            continue;
        };
        assert_eq!((event.time_ns, event.cpu), (time_ns, cpu));
        interruptions.clear();
        attributor.feed(&event, &mut interruptions);
        assert!(interruptions.len() <= 1, "{event:?} -> {interruptions:?}");
        for i in &interruptions {
            assert!(i.start_ns <= i.end_ns && i.end_ns <= time_ns, "{i:?}");
            assert!(!i.detail.is_empty(), "{event:?} -> {i:?}");
            summary.add(i);
        }
    }
    let _ = attributor.tick_reason();
    let mut table = Vec::new();
    summary.write_table(&mut table, 10).unwrap();
});
