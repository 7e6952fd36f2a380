//! The attribution state machine: pairs entry and exit tracepoints of the watched CPU
//! into interruptions, naming each by what ran inside it and, for IPIs, who sent it.
//!
//! Nesting is reported as it happened: a timer callback inside the TIMER softirq is
//! both a `softirq` and a `timer` interruption, a workqueue item is both the kworker
//! `task` and its `workqueue` function. Totals of different classes may overlap.

use std::collections::{HashMap, VecDeque};

use taskwatch_wire::syscalls;

use super::cause::{Class, Interruption};
use crate::trace::events::{Event, Kind, Vector};
use crate::trace::symbols::Symbols;

/// Hrtimer callbacks that are the scheduler tick.
const TICK_HANDLERS: [&str; 2] = ["tick_nohz_handler", "tick_sched_timer"];

/// Softirq vector names (include/linux/interrupt.h).
const SOFTIRQS: [&str; 10] = [
    "HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU",
];

/// TICK_DEP_BIT_* names (include/linux/tick.h).
const TICK_DEPENDENCIES: [&str; 6] = [
    "POSIX_TIMER",
    "PERF_EVENTS",
    "SCHED",
    "CLOCK_UNSTABLE",
    "RCU",
    "RCU_EXP",
];

/// What the attributor must know to say why the tick kept running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TickContext {
    /// The CPU is in /sys/devices/system/cpu/nohz_full.
    pub nohz_full: bool,
}

/// A local APIC timer interrupt in progress.
#[derive(Debug)]
struct OpenVector {
    vector: Vector,
    start: u64,
    hrtimers: Vec<u64>,
    csd_function: Option<u64>,
}

/// An IPI sent to the watched CPU, waiting for its arrival.
#[derive(Debug, Clone, Copy)]
struct IpiSend {
    time: u64,
    cpu: u32,
    callsite: u64,
}

/// Pairs the watched CPU's events into [`Interruption`]s.
pub struct Attributor {
    cpu: u32,
    tick: TickContext,
    symbols: Symbols,
    is_program: Box<dyn FnMut(u32) -> bool + Send>,
    last_tick_dependency: Option<u32>,
    vector: Option<OpenVector>,
    irq: Option<(String, u64)>,
    softirq: Option<(u32, u64)>,
    timer: Option<(u64, u64)>,
    hrtimer_outside_vector: Option<(u64, u64)>,
    work: Option<(u64, u64)>,
    task: Option<(String, u64)>,
    syscalls: HashMap<u32, (i64, [u64; 6], u64)>,
    sends: VecDeque<IpiSend>,
}

impl std::fmt::Debug for Attributor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attributor")
            .field("cpu", &self.cpu)
            .finish()
    }
}

impl Attributor {
    /// An attributor for `cpu`; `is_program(pid)` says whether a task belongs to the
    /// watched program (its syscalls and faults count, its being scheduled does not).
    pub fn new(
        cpu: u32,
        tick: TickContext,
        symbols: Symbols,
        is_program: impl FnMut(u32) -> bool + Send + 'static,
    ) -> Attributor {
        Attributor {
            cpu,
            tick,
            symbols,
            is_program: Box::new(is_program),
            last_tick_dependency: None,
            vector: None,
            irq: None,
            softirq: None,
            timer: None,
            hrtimer_outside_vector: None,
            work: None,
            task: None,
            syscalls: HashMap::new(),
            sends: VecDeque::new(),
        }
    }

    /// Why the tick is running, in words.
    pub fn tick_reason(&self) -> String {
        if !self.tick.nohz_full {
            return format!("CPU {} is not nohz_full", self.cpu);
        }
        match self.last_tick_dependency {
            Some(mask) => format!("tick_stop dependency {}", dependency_names(mask)),
            None => "no tick_stop failure traced".to_owned(),
        }
    }

    /// Feeds one event (in time order for the watched CPU); completed interruptions are
    /// appended to `out`.
    pub fn feed(&mut self, event: &Event, out: &mut Vec<Interruption>) {
        if event.cpu != self.cpu {
            if let Kind::IpiSend {
                to_target: true,
                callsite,
                ..
            } = event.kind
            {
                self.sends.push_back(IpiSend {
                    time: event.time_ns,
                    cpu: event.cpu,
                    callsite,
                });
                if self.sends.len() > 4096 {
                    self.sends.pop_front();
                }
            }
            return;
        }
        let t = event.time_ns;
        let mut emit = |class, detail: String, start: u64, end: u64| {
            out.push(Interruption {
                class,
                detail,
                start_ns: start,
                end_ns: end,
            })
        };
        match &event.kind {
            Kind::VectorEntry(Vector::IrqWork) => {
                let sender = self.take_sender(t);
                let detail = match sender {
                    Some(send) => format!("irq_work from CPU {}", send.cpu),
                    None => "irq_work (self)".to_owned(),
                };
                emit(Class::Ipi, detail, t, t);
            }
            Kind::VectorEntry(vector) => {
                self.vector = Some(OpenVector {
                    vector: *vector,
                    start: t,
                    hrtimers: Vec::new(),
                    csd_function: None,
                })
            }
            Kind::VectorExit(vector) => {
                if let Some(open) = self.vector.take().filter(|o| o.vector == *vector) {
                    let (class, detail) = self.describe_vector(&open);
                    emit(class, detail, open.start, t);
                }
            }
            Kind::HrtimerEntry { function } => match self.vector.as_mut() {
                Some(open) => open.hrtimers.push(*function),
                None => self.hrtimer_outside_vector = Some((*function, t)),
            },
            Kind::HrtimerExit => {
                if let Some((function, start)) = self.hrtimer_outside_vector.take() {
                    let name = self.symbols.name(function);
                    emit(Class::Timer, format!("hrtimer {name}"), start, t);
                }
            }
            Kind::CsdEntry { function } => {
                if let Some(open) = self.vector.as_mut() {
                    open.csd_function.get_or_insert(*function);
                }
            }
            Kind::IrqEntry { irq, name } => self.irq = Some((format!("{name} (irq {irq})"), t)),
            Kind::IrqExit => {
                if let Some((detail, start)) = self.irq.take() {
                    emit(Class::Irq, detail, start, t);
                }
            }
            Kind::SoftirqEntry { vector } => self.softirq = Some((*vector, t)),
            Kind::SoftirqExit => {
                if let Some((vector, start)) = self.softirq.take() {
                    let name = SOFTIRQS
                        .get(vector as usize)
                        .map_or_else(|| format!("vector {vector}"), |n| (*n).to_owned());
                    emit(Class::Softirq, name, start, t);
                }
            }
            Kind::TimerEntry { function } => self.timer = Some((*function, t)),
            Kind::TimerExit => {
                if let Some((function, start)) = self.timer.take() {
                    let name = self.symbols.name(function);
                    emit(Class::Timer, format!("timer {name}"), start, t);
                }
            }
            Kind::WorkStart { function } => self.work = Some((*function, t)),
            Kind::WorkEnd => {
                if let Some((function, start)) = self.work.take() {
                    emit(Class::Workqueue, self.symbols.name(function), start, t);
                }
            }
            Kind::TickStop {
                success: false,
                dependency,
            } => self.last_tick_dependency = Some(*dependency),
            Kind::Switch {
                next_pid,
                next_comm,
                ..
            } => {
                if let Some((detail, start)) = self.task.take() {
                    emit(Class::Task, detail, start, t);
                }
                if *next_pid != 0 && !(self.is_program)(*next_pid) {
                    // PR_SET_NAME can empty a comm: name the task by its pid then.
                    let detail = if next_comm.is_empty() {
                        format!("pid {next_pid}")
                    } else {
                        next_comm.clone()
                    };
                    self.task = Some((detail, t));
                }
            }
            Kind::Migrate {
                pid,
                comm,
                orig_cpu,
                dest_cpu,
            } => {
                let detail = format!("{comm} ({pid}) CPU {orig_cpu} -> {dest_cpu}");
                emit(Class::Migration, detail, t, t);
            }
            Kind::SysEnter { nr, args } if (self.is_program)(event.pid) => {
                // exit and exit_group never return: an entry kept for them would stay
                // (one per exited thread) and pair with the sys_exit of a reused tid.
                if matches!(*nr, syscalls::EXIT | syscalls::EXIT_GROUP) {
                    self.syscalls.remove(&event.pid);
                } else {
                    self.syscalls.insert(event.pid, (*nr, *args, t));
                }
            }
            Kind::SysExit { .. } => {
                if let Some((nr, _, start)) = self.syscalls.remove(&event.pid) {
                    let name =
                        syscalls::name(nr).map_or_else(|| format!("syscall_{nr}"), str::to_owned);
                    emit(Class::Syscall, name, start, t);
                }
            }
            Kind::PageFault { error_code, .. } if (self.is_program)(event.pid) => {
                emit(Class::PageFault, fault_kind(*error_code).to_owned(), t, t);
            }
            Kind::Nmi { handler, delta_ns } => {
                let start = t.saturating_sub(u64::try_from(*delta_ns).unwrap_or(0));
                emit(Class::Nmi, self.symbols.name(*handler), start, t);
            }
            _ => {}
        }
    }

    fn describe_vector(&mut self, open: &OpenVector) -> (Class, String) {
        if open.vector == Vector::LocalTimer {
            let names: Vec<String> = open
                .hrtimers
                .iter()
                .map(|&f| self.symbols.name(f))
                .collect();
            if names.iter().any(|n| TICK_HANDLERS.contains(&n.as_str())) {
                return (
                    Class::Tick,
                    format!("scheduler tick, kept running: {}", self.tick_reason()),
                );
            }
            return match names.first() {
                Some(name) => (Class::Timer, format!("hrtimer {name}")),
                None => (
                    Class::Timer,
                    "local timer interrupt, no hrtimer expired".to_owned(),
                ),
            };
        }
        let sender = self.take_sender(open.start);
        let mut detail = open.vector.name().to_owned();
        if let Some(function) = open.csd_function {
            detail.push(' ');
            detail.push_str(&self.symbols.name(function));
        }
        match sender {
            Some(send) => {
                let site = self.symbols.name(send.callsite);
                let site = site.split('+').next().unwrap_or(&site).to_owned();
                detail.push_str(&format!(" from CPU {} at {site}", send.cpu));
            }
            None => detail.push_str(" (sender not traced)"),
        }
        let class = match open.vector {
            Vector::OtherApic | Vector::PlatformIpi => Class::Irq,
            _ => Class::Ipi,
        };
        (class, detail)
    }

    /// The latest send before `arrival`; older ones are dropped (coalesced into it).
    fn take_sender(&mut self, arrival: u64) -> Option<IpiSend> {
        let mut found = None;
        while let Some(send) = self.sends.front().copied() {
            if send.time > arrival {
                break;
            }
            found = Some(send);
            self.sends.pop_front();
        }
        found
    }
}

fn dependency_names(mask: u32) -> String {
    let names: Vec<&str> = TICK_DEPENDENCIES
        .iter()
        .enumerate()
        .filter(|(bit, _)| mask & (1 << bit) != 0)
        .map(|(_, n)| *n)
        .collect();
    if names.is_empty() {
        format!("{mask:#x}")
    } else {
        names.join("|")
    }
}

/// x86 page fault error code: bit 0 protection (page present), bit 1 write, bit 4 fetch.
fn fault_kind(error_code: u64) -> &'static str {
    match (
        error_code & 1 != 0,
        error_code & 2 != 0,
        error_code & 16 != 0,
    ) {
        (_, _, true) => "instruction fetch",
        (false, false, _) => "read of a not-present page",
        (false, true, _) => "write to a not-present page",
        (true, true, _) => "write to a read-only page (copy on write)",
        (true, false, _) => "read protection fault",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: u64 = 0xffff_ffff_8143_52e0;
    const WAKEUP: u64 = 0xffff_ffff_8143_5400;
    const CALLSITE: u64 = 0xffff_ffff_8150_0010;

    fn symbols() -> Symbols {
        Symbols::parse(
            "ffffffff814352e0 t tick_nohz_handler\nffffffff81435400 T hrtimer_wakeup\n\
             ffffffff81500000 T ttwu_queue_wakelist\n",
        )
    }

    fn ev(time_ns: u64, cpu: u32, pid: u32, kind: Kind) -> Event {
        Event {
            time_ns,
            cpu,
            pid,
            kind,
        }
    }

    fn run(nohz_full: bool, events: &[Event]) -> Vec<Interruption> {
        let mut a = Attributor::new(1, TickContext { nohz_full }, symbols(), |pid| pid == 500);
        let mut out = Vec::new();
        for e in events {
            a.feed(e, &mut out);
        }
        out
    }

    #[test]
    fn a_local_timer_with_the_tick_handler_is_the_tick_with_its_reason() {
        let events = [
            ev(100, 1, 500, Kind::VectorEntry(Vector::LocalTimer)),
            ev(110, 1, 500, Kind::HrtimerEntry { function: TICK }),
            ev(150, 1, 500, Kind::HrtimerExit),
            ev(200, 1, 500, Kind::VectorExit(Vector::LocalTimer)),
        ];
        let out = run(false, &events);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].class, Class::Tick);
        assert_eq!(
            out[0].detail,
            "scheduler tick, kept running: CPU 1 is not nohz_full"
        );
        assert_eq!(out[0].duration_ns(), 100);

        let mut with_dependency = vec![ev(
            50,
            1,
            500,
            Kind::TickStop {
                success: false,
                dependency: 1 << 2,
            },
        )];
        with_dependency.extend(events);
        let out = run(true, &with_dependency);
        assert!(
            out[0].detail.ends_with("tick_stop dependency SCHED"),
            "{}",
            out[0].detail
        );
    }

    #[test]
    fn other_hrtimers_are_timers() {
        let out = run(
            false,
            &[
                ev(100, 1, 0, Kind::VectorEntry(Vector::LocalTimer)),
                ev(110, 1, 0, Kind::HrtimerEntry { function: WAKEUP }),
                ev(120, 1, 0, Kind::VectorExit(Vector::LocalTimer)),
            ],
        );
        assert_eq!(
            (out[0].class, out[0].detail.as_str()),
            (Class::Timer, "hrtimer hrtimer_wakeup")
        );
    }

    #[test]
    fn an_ipi_names_its_sender_and_callsite() {
        let out = run(
            false,
            &[
                ev(
                    90,
                    0,
                    7,
                    Kind::IpiSend {
                        to_target: true,
                        callsite: CALLSITE,
                        callback: 0,
                    },
                ),
                ev(100, 1, 500, Kind::VectorEntry(Vector::Reschedule)),
                ev(130, 1, 500, Kind::VectorExit(Vector::Reschedule)),
            ],
        );
        assert_eq!(out[0].class, Class::Ipi);
        assert_eq!(
            out[0].detail,
            "reschedule from CPU 0 at ttwu_queue_wakelist"
        );
    }

    #[test]
    fn other_tasks_syscalls_and_faults() {
        let out = run(
            false,
            &[
                ev(
                    10,
                    1,
                    500,
                    Kind::SysEnter {
                        nr: 1,
                        args: [1, 0, 6, 0, 0, 0],
                    },
                ),
                ev(20, 1, 500, Kind::SysExit { nr: 1 }),
                ev(
                    25,
                    1,
                    42,
                    Kind::SysEnter {
                        nr: 0,
                        args: [0; 6],
                    },
                ),
                ev(26, 1, 42, Kind::SysExit { nr: 0 }),
                ev(
                    30,
                    1,
                    500,
                    Kind::PageFault {
                        address: 0x1000,
                        error_code: 6,
                    },
                ),
                ev(
                    40,
                    1,
                    500,
                    Kind::Switch {
                        prev_pid: 500,
                        next_pid: 77,
                        next_comm: "kworker/1:0".into(),
                    },
                ),
                ev(
                    90,
                    1,
                    77,
                    Kind::Switch {
                        prev_pid: 77,
                        next_pid: 500,
                        next_comm: "prog".into(),
                    },
                ),
            ],
        );
        let got: Vec<_> = out
            .iter()
            .map(|i| (i.class, i.detail.as_str(), i.duration_ns()))
            .collect();
        assert_eq!(
            got,
            [
                (Class::Syscall, "write", 10),
                (Class::PageFault, "write to a not-present page", 0),
                (Class::Task, "kworker/1:0", 50),
            ]
        );
    }

    #[test]
    fn a_task_with_an_empty_comm_is_named_by_its_pid() {
        let switch = |time, prev_pid, next_pid, next_comm: &str| {
            let kind = Kind::Switch {
                prev_pid,
                next_pid,
                next_comm: next_comm.into(),
            };
            ev(time, 1, prev_pid, kind)
        };
        let out = run(
            false,
            &[switch(10, 500, 42, ""), switch(30, 42, 500, "prog")],
        );
        assert_eq!(
            (out[0].class, out[0].detail.as_str(), out[0].duration_ns()),
            (Class::Task, "pid 42", 20)
        );
    }

    #[test]
    fn an_exiting_thread_leaves_no_syscall_open_for_its_reused_tid() {
        let enter = |time, nr| ev(time, 1, 500, Kind::SysEnter { nr, args: [0; 6] });
        let out = run(
            false,
            &[
                enter(10, syscalls::WRITE),
                enter(20, syscalls::EXIT),
                // Much later, a task reusing tid 500 returns from a syscall on the CPU.
                ev(5_000_000, 1, 500, Kind::SysExit { nr: 0 }),
            ],
        );
        assert_eq!(out, []);
    }
}
