//! The library API: `isolation::enter(flags)` puts the calling thread in task isolation
//! as the series' prctl would — validate, quiesce, then strict mode, armed synchronously.
//!
//! Validation: the thread's affinity is one CPU, and that CPU passes `isolate check`
//! (or [`EnterOptions::allow_unisolated`]). Quiescing: mlockall, the stack prefaulted,
//! vm statistics folded (vm.stat_refresh), and a wait for the tick to stop, with the
//! reason when it does not. Strict mode: a seccomp filter traps every system call but
//! prctl, exit, exit_group (and rt_sigreturn, for handlers), and a perf sigtrap fires on
//! every page fault; either prints `strict: pid P cpu C: WHAT at +X ms` to stderr and sends
//! the flags' signal (SIGKILL by default) before the call runs or the fault returns.
//!
//! Strict mode lasts for the thread's life: a seccomp filter cannot be removed. One strict
//! thread per process. Do everything that needs the kernel (allocations that may mmap,
//! I/O) before entering.

use std::io;
use std::time::{Duration, Instant};

use taskwatch_kernel::task_control::{
    affinity_of, arm_strict_traps, lock_all_memory, PerfRing, StrictTraps,
};
use taskwatch_wire::perf::{self, Body};

use crate::bpf;
use crate::flags::IsolationFlags;
use crate::runner::is_nohz_full;
use crate::suitability::{require_suitable, Unsuitable};
use crate::trace::events::{self, Decoder, Kind};
use crate::trace::monitor::TRACEFS;

/// How [`enter_with`] quiesces.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EnterOptions {
    /// Accept a CPU that fails `isolate check` (it must still exist and be online).
    pub allow_unisolated: bool,
    /// How long to wait for the tick to stop on a nohz_full CPU.
    pub tick_timeout: Duration,
    /// How much stack below the caller to fault in now.
    pub prefault_stack_bytes: usize,
}

impl Default for EnterOptions {
    fn default() -> Self {
        EnterOptions {
            allow_unisolated: false,
            tick_timeout: Duration::from_millis(100),
            prefault_stack_bytes: 256 << 10,
        }
    }
}

/// Whether the tick stopped before strict mode was armed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TickState {
    /// /proc/timer_list shows it stopped.
    Stopped,
    /// It kept running, and why.
    Running {
        /// "CPU 1 is not nohz_full", or the tick_stop dependency.
        reason: String,
    },
}

/// The thread is isolated and strict.
#[derive(Debug)]
#[non_exhaustive]
pub struct Entered {
    /// The CPU.
    pub cpu: u32,
    /// The tick.
    pub tick: TickState,
    /// Quiescing steps that could not be done (e.g. mlockall without CAP_IPC_LOCK).
    pub not_quiesced: Vec<String>,
    /// The armed traps.
    pub traps: StrictTraps,
}

/// Why isolation was refused (the series' EINVAL cases) or could not be armed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnterError {
    /// Bits the series does not define, or a bad signal.
    #[error("flags {0:#x} are not a valid PR_SET_TASK_ISOLATION word")]
    BadFlags(u64),
    /// ENABLE is not set: nothing to enter (strict mode cannot be left once entered).
    #[error("flags {0:#x} lack PR_TASK_ISOLATION_ENABLE")]
    NotEnabled(u64),
    /// The thread may run on several CPUs (or none could be read).
    #[error("the thread's affinity must be a single CPU, it is {0:?}")]
    NotSingleCpu(Vec<u32>),
    /// The CPU is not suitable.
    #[error(transparent)]
    Unsuitable(#[from] Unsuitable),
    /// A system call failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The error.
        source: io::Error,
    },
}

/// [`enter_with`] with default options.
pub fn enter(flags: u64) -> Result<Entered, EnterError> {
    enter_with(flags, &EnterOptions::default())
}

/// Validates, quiesces and arms strict mode for the calling thread.
pub fn enter_with(flags: u64, options: &EnterOptions) -> Result<Entered, EnterError> {
    let parsed = IsolationFlags::new(flags).ok_or(EnterError::BadFlags(flags))?;
    if !parsed.enabled() {
        return Err(EnterError::NotEnabled(flags));
    }
    let cpus = affinity_of(0).map_err(|source| EnterError::Io {
        what: "reading the thread's affinity",
        source,
    })?;
    let [cpu] = cpus[..] else {
        return Err(EnterError::NotSingleCpu(cpus));
    };
    require_suitable(cpu, options.allow_unisolated)?;

    let mut not_quiesced = Vec::new();
    if let Err(e) = lock_all_memory() {
        not_quiesced.push(format!("mlockall: {e}"));
    }
    prefault_stack(options.prefault_stack_bytes);
    if let Err(e) = std::fs::write("/proc/sys/vm/stat_refresh", "1") {
        not_quiesced.push(format!("vm.stat_refresh: {e}"));
    }
    let tick = wait_for_tick_stop(cpu, options.tick_timeout);
    let signal = parsed.violation_signal().unwrap_or(0);
    let traps = arm_strict_traps(signal, bpf::strict).map_err(|source| EnterError::Io {
        what: "arming strict mode (seccomp filter, perf page-fault sigtrap)",
        source,
    })?;
    Ok(Entered {
        cpu,
        tick,
        not_quiesced,
        traps,
    })
}

/// Touches `bytes` of stack below this frame so that using it later does not fault.
#[inline(never)]
fn prefault_stack(bytes: usize) {
    const CHUNK: usize = 16 << 10;
    fn touch(remaining: usize) {
        let mut block = [0u8; CHUNK];
        std::hint::black_box(&mut block);
        if remaining > CHUNK {
            touch(remaining - CHUNK);
        }
        std::hint::black_box(&block);
    }
    touch(bytes);
}

fn wait_for_tick_stop(cpu: u32, timeout: Duration) -> TickState {
    if !is_nohz_full(cpu) {
        return TickState::Running {
            reason: format!("CPU {cpu} is not nohz_full"),
        };
    }
    // Trace tick_stop while waiting, to give the dependency if the tick keeps running.
    let tick_stop = events::load(std::path::Path::new(TRACEFS), "timer", "tick_stop");
    let mut ring = tick_stop
        .as_ref()
        .and_then(|tp| PerfRing::open_tracepoint(u64::from(tp.id), cpu, 4).ok());
    let start = Instant::now();
    while start.elapsed() < timeout {
        if tick_stopped(cpu) == Some(true) {
            return TickState::Stopped;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut reason = format!("the tick still ran after {timeout:?}");
    if let (Some(tp), Some(ring)) = (tick_stop, ring.as_mut()) {
        let mut buf = Vec::new();
        let _ = ring.read_available(&mut buf);
        let decoder = Decoder::new([tp], cpu);
        let last_dependency = perf::records(&buf)
            .filter_map(Result::ok)
            .filter_map(|r| match r.body {
                Body::Sample(s) => decoder.decode(s.raw, s.time, cpu),
                _ => None,
            })
            .filter_map(|e| match e.kind {
                Kind::TickStop {
                    success: false,
                    dependency,
                } => Some(dependency),
                _ => None,
            })
            .last();
        if let Some(mask) = last_dependency {
            reason.push_str(&format!("; tick_stop dependency mask {mask:#x}"));
        }
    }
    TickState::Running { reason }
}

/// `.tick_stopped` of `cpu` in /proc/timer_list (root only).
fn tick_stopped(cpu: u32) -> Option<bool> {
    let text = std::fs::read_to_string("/proc/timer_list").ok()?;
    let header = format!("cpu: {cpu}\n");
    let section = &text[text.find(&header)? + header.len()..];
    let section = section.split("\ncpu: ").next()?;
    let line = section
        .lines()
        .find(|l| l.trim_start().starts_with(".tick_stopped"))?;
    Some(line.trim_end().ends_with('1'))
}
