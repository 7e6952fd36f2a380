//! The tracepoints that show what interrupts a CPU, and their raw records decoded into
//! one [`Event`] type through the field offsets of each tracefs `format` file.

use std::collections::HashMap;
use std::path::Path;

use taskwatch_wire::tracepoint::{self, Field, Format};

/// An x86 interrupt vector with entry/exit tracepoints in `irq_vectors`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vector {
    /// The local APIC timer: the tick and every hrtimer.
    LocalTimer,
    /// A function-call IPI to several CPUs (smp_call_function_many).
    CallFunction,
    /// A function-call IPI to this CPU alone.
    CallFunctionSingle,
    /// A reschedule IPI.
    Reschedule,
    /// An irq_work self-IPI or IPI.
    IrqWork,
    /// A platform IPI (hypervisor callback vector).
    PlatformIpi,
    /// Thermal, error or spurious APIC interrupts.
    OtherApic,
}

impl Vector {
    /// A short name: "reschedule", "call_function", ...
    pub fn name(self) -> &'static str {
        match self {
            Vector::LocalTimer => "local_timer",
            Vector::CallFunction => "call_function",
            Vector::CallFunctionSingle => "call_function_single",
            Vector::Reschedule => "reschedule",
            Vector::IrqWork => "irq_work",
            Vector::PlatformIpi => "x86_platform_ipi",
            Vector::OtherApic => "apic",
        }
    }
}

/// What happened, per tracepoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// irq:irq_handler_entry.
    IrqEntry {
        /// IRQ number.
        irq: i64,
        /// The handler's name.
        name: String,
    },
    /// irq:irq_handler_exit.
    IrqExit,
    /// irq:softirq_entry.
    SoftirqEntry {
        /// The vector (0 HI .. 9 RCU).
        vector: u32,
    },
    /// irq:softirq_exit.
    SoftirqExit,
    /// irq_vectors:*_entry.
    VectorEntry(Vector),
    /// irq_vectors:*_exit.
    VectorExit(Vector),
    /// ipi:ipi_send_cpu / ipi_send_cpumask, recorded on the sender's CPU.
    IpiSend {
        /// Whether the target CPU is among the receivers.
        to_target: bool,
        /// Where the IPI was sent from.
        callsite: u64,
        /// The function it asks to run (0 for a reschedule).
        callback: u64,
    },
    /// csd:csd_function_entry: a cross-CPU function call starts.
    CsdEntry {
        /// The function.
        function: u64,
    },
    /// workqueue:workqueue_execute_start.
    WorkStart {
        /// The work function.
        function: u64,
    },
    /// workqueue:workqueue_execute_end.
    WorkEnd,
    /// timer:tick_stop: whether the tick could stop, and what kept it (TICK_DEP_MASK_*).
    TickStop {
        /// The tick stopped.
        success: bool,
        /// The dependency bits when it did not.
        dependency: u32,
    },
    /// timer:hrtimer_expire_entry.
    HrtimerEntry {
        /// The callback.
        function: u64,
    },
    /// timer:hrtimer_expire_exit.
    HrtimerExit,
    /// timer:timer_expire_entry.
    TimerEntry {
        /// The callback.
        function: u64,
    },
    /// timer:timer_expire_exit.
    TimerExit,
    /// sched:sched_switch.
    Switch {
        /// The task leaving.
        prev_pid: u32,
        /// The task coming.
        next_pid: u32,
        /// Its comm.
        next_comm: String,
    },
    /// sched:sched_migrate_task.
    Migrate {
        /// The task.
        pid: u32,
        /// Its comm.
        comm: String,
        /// From.
        orig_cpu: i64,
        /// To.
        dest_cpu: i64,
    },
    /// raw_syscalls:sys_enter.
    SysEnter {
        /// Number.
        nr: i64,
        /// Arguments.
        args: [u64; 6],
    },
    /// raw_syscalls:sys_exit.
    SysExit {
        /// Number.
        nr: i64,
    },
    /// exceptions:page_fault_user.
    PageFault {
        /// Faulting address.
        address: u64,
        /// x86 page fault error code (bit 0 present, 1 write, 4 instruction fetch).
        error_code: u64,
    },
    /// nmi:nmi_handler (fired at the handler's end, with its duration).
    Nmi {
        /// The handler.
        handler: u64,
        /// How long it ran.
        delta_ns: i64,
    },
}

/// One decoded record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// CLOCK_MONOTONIC ns.
    pub time_ns: u64,
    /// The CPU whose ring held it.
    pub cpu: u32,
    /// `common_pid`: the task running when it fired.
    pub pid: u32,
    /// What happened.
    pub kind: Kind,
}

/// Which tracepoints a monitor opens on the watched CPU, as (system, event).
pub const ON_TARGET: &[(&str, &str)] = &[
    ("irq", "irq_handler_entry"),
    ("irq", "irq_handler_exit"),
    ("irq", "softirq_entry"),
    ("irq", "softirq_exit"),
    ("irq_vectors", "local_timer_entry"),
    ("irq_vectors", "local_timer_exit"),
    ("irq_vectors", "call_function_entry"),
    ("irq_vectors", "call_function_exit"),
    ("irq_vectors", "call_function_single_entry"),
    ("irq_vectors", "call_function_single_exit"),
    ("irq_vectors", "reschedule_entry"),
    ("irq_vectors", "reschedule_exit"),
    // irq_work_exit refuses sampling (perf itself raises irq_work): entries count alone.
    ("irq_vectors", "irq_work_entry"),
    ("irq_vectors", "x86_platform_ipi_entry"),
    ("irq_vectors", "x86_platform_ipi_exit"),
    ("irq_vectors", "thermal_apic_entry"),
    ("irq_vectors", "thermal_apic_exit"),
    ("irq_vectors", "error_apic_entry"),
    ("irq_vectors", "error_apic_exit"),
    ("irq_vectors", "spurious_apic_entry"),
    ("irq_vectors", "spurious_apic_exit"),
    ("csd", "csd_function_entry"),
    ("workqueue", "workqueue_execute_start"),
    ("workqueue", "workqueue_execute_end"),
    ("timer", "tick_stop"),
    ("timer", "hrtimer_expire_entry"),
    ("timer", "hrtimer_expire_exit"),
    ("timer", "timer_expire_entry"),
    ("timer", "timer_expire_exit"),
    ("sched", "sched_switch"),
    ("sched", "sched_migrate_task"),
    ("raw_syscalls", "sys_enter"),
    ("raw_syscalls", "sys_exit"),
    ("exceptions", "page_fault_user"),
    ("nmi", "nmi_handler"),
];

/// Tracepoints opened on every other CPU: who sends IPIs to the watched one.
pub const ON_SENDERS: &[(&str, &str)] = &[("ipi", "ipi_send_cpu"), ("ipi", "ipi_send_cpumask")];

/// One tracepoint's id and format.
#[derive(Debug, Clone)]
pub struct Tracepoint {
    /// `system:event`.
    pub name: String,
    /// The id to open.
    pub id: u16,
    format: Format,
}

impl Tracepoint {
    /// The tracepoint `name` (`system:event`) described by the tracefs `format` file
    /// `text`; None when the text does not parse or has no 16-bit `ID`.
    pub fn from_format(name: &str, text: &str) -> Option<Tracepoint> {
        let format = tracepoint::parse_format(text).ok()?;
        let id = u16::try_from(format.id?).ok()?;
        Some(Tracepoint {
            name: name.to_owned(),
            id,
            format,
        })
    }
}

/// Loads `events/<system>/<event>/format` under `tracefs`; None when the kernel lacks
/// the event (it is then not traced; [`missing`] lists them).
pub fn load(tracefs: &Path, system: &str, event: &str) -> Option<Tracepoint> {
    let dir = tracefs.join("events").join(system).join(event);
    let text = std::fs::read_to_string(dir.join("format")).ok()?;
    Tracepoint::from_format(&format!("{system}:{event}"), &text)
}

/// The (system, event) pairs of `list` that tracefs lacks.
pub fn missing(tracefs: &Path, list: &[(&str, &str)]) -> Vec<String> {
    list.iter()
        .filter(|(s, e)| load(tracefs, s, e).is_none())
        .map(|(s, e)| format!("{s}:{e}"))
        .collect()
}

/// Decodes raw records of a set of tracepoints, by `common_type`.
#[derive(Debug, Default)]
pub struct Decoder {
    by_id: HashMap<u16, Tracepoint>,
    /// The watched CPU, for `ipi_send_*`'s target test.
    target_cpu: u32,
}

impl Decoder {
    /// A decoder for `tracepoints`, judging IPIs against `target_cpu`.
    pub fn new(tracepoints: impl IntoIterator<Item = Tracepoint>, target_cpu: u32) -> Decoder {
        Decoder {
            by_id: tracepoints.into_iter().map(|t| (t.id, t)).collect(),
            target_cpu,
        }
    }

    /// Decodes one raw record seen on `cpu` at `time_ns`; None for an unknown id or a
    /// record that does not match its format.
    pub fn decode(&self, raw: &[u8], time_ns: u64, cpu: u32) -> Option<Event> {
        let id = u16::from_ne_bytes([*raw.first()?, *raw.get(1)?]);
        let tp = self.by_id.get(&id)?;
        let f = |name: &str| -> Option<&Field> { tp.format.field(name) };
        let int = |name: &str| -> Option<i64> { f(name)?.read_int(raw).ok() };
        let text = |name: &str| -> Option<String> {
            Some(String::from_utf8_lossy(f(name)?.read_bytes(raw).ok()?).into_owned())
        };
        let pid = int("common_pid")? as u32;
        let event = tp.name.split_once(':').map_or("", |(_, e)| e);
        let kind = match event {
            "irq_handler_entry" => Kind::IrqEntry {
                irq: int("irq")?,
                name: text("name")?,
            },
            "irq_handler_exit" => Kind::IrqExit,
            "softirq_entry" => Kind::SoftirqEntry {
                vector: int("vec")? as u32,
            },
            "softirq_exit" => Kind::SoftirqExit,
            "csd_function_entry" => Kind::CsdEntry {
                function: int("func")? as u64,
            },
            "workqueue_execute_start" => Kind::WorkStart {
                function: int("function")? as u64,
            },
            "workqueue_execute_end" => Kind::WorkEnd,
            "tick_stop" => Kind::TickStop {
                success: int("success")? != 0,
                dependency: int("dependency")? as u32,
            },
            "hrtimer_expire_entry" => Kind::HrtimerEntry {
                function: int("function")? as u64,
            },
            "hrtimer_expire_exit" => Kind::HrtimerExit,
            "timer_expire_entry" => Kind::TimerEntry {
                function: int("function")? as u64,
            },
            "timer_expire_exit" => Kind::TimerExit,
            "sched_switch" => Kind::Switch {
                prev_pid: int("prev_pid")? as u32,
                next_pid: int("next_pid")? as u32,
                next_comm: text("next_comm")?,
            },
            "sched_migrate_task" => Kind::Migrate {
                pid: int("pid")? as u32,
                comm: text("comm")?,
                orig_cpu: int("orig_cpu")?,
                dest_cpu: int("dest_cpu")?,
            },
            "sys_enter" => {
                let field = f("args")?;
                let bytes = field.read_located(raw).ok()?;
                let mut args = [0u64; 6];
                for (i, chunk) in bytes.chunks_exact(8).take(6).enumerate() {
                    args[i] = u64::from_ne_bytes(chunk.try_into().ok()?);
                }
                Kind::SysEnter {
                    nr: int("id")?,
                    args,
                }
            }
            "sys_exit" => Kind::SysExit { nr: int("id")? },
            "page_fault_user" => Kind::PageFault {
                address: int("address")? as u64,
                error_code: int("error_code")? as u64,
            },
            "nmi_handler" => Kind::Nmi {
                handler: int("handler")? as u64,
                delta_ns: int("delta_ns")?,
            },
            "ipi_send_cpu" => Kind::IpiSend {
                to_target: int("cpu")? as u32 == self.target_cpu,
                callsite: int("callsite")? as u64,
                callback: int("callback")? as u64,
            },
            "ipi_send_cpumask" => {
                let mask = f("cpumask")?.read_located(raw).ok()?;
                let (byte, bit) = ((self.target_cpu / 8) as usize, self.target_cpu % 8);
                Kind::IpiSend {
                    to_target: mask.get(byte).is_some_and(|b| b & (1 << bit) != 0),
                    callsite: int("callsite")? as u64,
                    callback: int("callback")? as u64,
                }
            }
            other => vector_event(other)?,
        };
        Some(Event {
            time_ns,
            cpu,
            pid,
            kind,
        })
    }
}

fn vector_event(event: &str) -> Option<Kind> {
    let (name, entry) = match event.strip_suffix("_entry") {
        Some(name) => (name, true),
        None => (event.strip_suffix("_exit")?, false),
    };
    let vector = match name {
        "local_timer" => Vector::LocalTimer,
        "call_function" => Vector::CallFunction,
        "call_function_single" => Vector::CallFunctionSingle,
        "reschedule" => Vector::Reschedule,
        "irq_work" => Vector::IrqWork,
        "x86_platform_ipi" => Vector::PlatformIpi,
        "thermal_apic" | "error_apic" | "spurious_apic" => Vector::OtherApic,
        _ => return None,
    };
    Some(if entry {
        Kind::VectorEntry(vector)
    } else {
        Kind::VectorExit(vector)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SWITCH_FORMAT: &str = "name: sched_switch\nID: 300\nformat:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;
\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;
\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;
\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;
\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;
\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;
\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;
\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;
";

    #[test]
    fn decodes_a_switch_by_its_format() {
        let tp = Tracepoint::from_format("sched:sched_switch", SWITCH_FORMAT).unwrap();
        assert_eq!(tp.id, 300);
        let decoder = Decoder::new([tp], 1);
        let mut raw = vec![0u8; 64];
        raw[0..2].copy_from_slice(&300u16.to_ne_bytes());
        raw[4..8].copy_from_slice(&77i32.to_ne_bytes());
        raw[24..28].copy_from_slice(&77i32.to_ne_bytes());
        raw[40..46].copy_from_slice(b"kwork\0");
        raw[56..60].copy_from_slice(&12i32.to_ne_bytes());
        let event = decoder.decode(&raw, 5, 1).unwrap();
        assert_eq!(event.pid, 77);
        assert_eq!(
            event.kind,
            Kind::Switch {
                prev_pid: 77,
                next_pid: 12,
                next_comm: "kwork".into()
            }
        );
        raw[0] = 1; // an id the decoder does not know
        assert_eq!(decoder.decode(&raw, 5, 1), None);
        assert_eq!(decoder.decode(&raw[..1], 5, 1), None);
    }

    #[test]
    fn vector_names() {
        assert_eq!(
            vector_event("local_timer_entry"),
            Some(Kind::VectorEntry(Vector::LocalTimer))
        );
        assert_eq!(
            vector_event("reschedule_exit"),
            Some(Kind::VectorExit(Vector::Reschedule))
        );
        assert_eq!(vector_event("vector_alloc"), None);
    }
}
