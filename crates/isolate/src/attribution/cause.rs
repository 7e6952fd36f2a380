//! What interrupted the CPU: a class from the JSON contract's fixed list, a detail that
//! names the specific cause, and when it started and ended.

/// The kinds of interruption, as the JSON contract spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// The scheduler tick.
    Tick,
    /// An hrtimer or timer-wheel callback.
    Timer,
    /// A device interrupt handler.
    Irq,
    /// A softirq vector.
    Softirq,
    /// An inter-processor interrupt.
    Ipi,
    /// A workqueue item.
    Workqueue,
    /// Another task scheduled on the CPU (detail: its comm).
    Task,
    /// A task migrated to or from the CPU.
    Migration,
    /// A system call of the watched program.
    Syscall,
    /// A page fault of the watched program.
    PageFault,
    /// A non-maskable interrupt.
    Nmi,
    /// A gap with no traced cause (probe only).
    Unexplained,
}

impl Class {
    /// The contract's name.
    pub fn name(self) -> &'static str {
        match self {
            Class::Tick => "tick",
            Class::Timer => "timer",
            Class::Irq => "irq",
            Class::Softirq => "softirq",
            Class::Ipi => "ipi",
            Class::Workqueue => "workqueue",
            Class::Task => "task",
            Class::Migration => "migration",
            Class::Syscall => "syscall",
            Class::PageFault => "page_fault",
            Class::Nmi => "nmi",
            Class::Unexplained => "unexplained",
        }
    }

    /// Every class, in contract order.
    pub const ALL: [Class; 12] = [
        Class::Tick,
        Class::Timer,
        Class::Irq,
        Class::Softirq,
        Class::Ipi,
        Class::Workqueue,
        Class::Task,
        Class::Migration,
        Class::Syscall,
        Class::PageFault,
        Class::Nmi,
        Class::Unexplained,
    ];
}

/// One interruption of the watched CPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interruption {
    /// Its class.
    pub class: Class,
    /// What exactly: a function, an IRQ name, a softirq vector, a task...
    pub detail: String,
    /// CLOCK_MONOTONIC ns at its first trace.
    pub start_ns: u64,
    /// CLOCK_MONOTONIC ns at its last trace (equal to the start for instant events:
    /// page faults and migrations have no exit tracepoint).
    pub end_ns: u64,
}

impl Interruption {
    /// end − start.
    pub fn duration_ns(&self) -> u64 {
        self.end_ns.saturating_sub(self.start_ns)
    }
}
