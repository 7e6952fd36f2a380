//! `isolate run`: refuse an unsuitable CPU, run the program pinned to it under the seccomp
//! supervisor (prctl ABI, strict mode), and attribute every interruption of that CPU
//! while the program lives.
//!
//! taskwatch's own threads are moved off the CPU first; on it, only the tracepoints add
//! work (a few hundred ns per hit).

mod program;
pub mod strict;
mod supervisor;

use std::collections::HashMap;
use std::ffi::OsString;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use taskwatch_core::cpulist;
use taskwatch_kernel::task_control::{
    monotonic_ns, set_current_thread_affinity, spawn_pinned, wait_for_exit, NotifyListener,
    SpawnError,
};

pub use program::{Program, ProgramError};
pub use strict::{StrictRegistry, StrictThread, Violation};

use crate::attribution::{Attributor, Interruption, Summary, TickContext};
use crate::bpf;
use crate::suitability::{require_suitable, Unsuitable};
use crate::trace::events::Kind;
use crate::trace::monitor::{CpuMonitor, MonitorError};
use crate::trace::symbols::Symbols;

/// `isolate run`'s settings.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The CPU.
    pub cpu: u32,
    /// Run even when the CPU is not suitable (the CPU must still exist and be online).
    pub allow_unisolated: bool,
    /// `--strict[=SIGNAL]`: the signal strict mode sends when armed by `strict_after`.
    pub strict_signal: Option<i32>,
    /// Arm strict mode for the program's main thread this long after exec, if it has not
    /// called the prctl by then.
    pub strict_after: Option<Duration>,
    /// How often the rings are read (and page faults of strict threads caught).
    pub poll_interval: Duration,
}

/// Why the program could not be run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The CPU is not suitable.
    #[error("{0}; pass --allow-unisolated to run anyway")]
    Unsuitable(Unsuitable),
    /// The program could not be found.
    #[error(transparent)]
    Program(#[from] ProgramError),
    /// Tracing could not start.
    #[error(transparent)]
    Monitor(#[from] MonitorError),
    /// fork/exec failed.
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    /// Another system call failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The error.
        source: std::io::Error,
    },
}

impl From<Unsuitable> for RunError {
    fn from(e: Unsuitable) -> Self {
        RunError::Unsuitable(e)
    }
}

/// What a run found.
#[derive(Debug)]
pub struct RunOutcome {
    /// The program's pid.
    pub pid: u32,
    /// Its raw wait status.
    pub wait_status: u32,
    /// Interruptions by cause.
    pub summary: Summary,
    /// From exec to exit.
    pub duration_ns: u64,
    /// Trace records the kernel dropped (rings full).
    pub lost: u64,
    /// Tracepoints this kernel lacks.
    pub untraced: Vec<String>,
    /// Why the tick kept running, as last known.
    pub tick_reason: String,
    /// Strict-mode violations.
    pub violations: Vec<Violation>,
}

/// Whether `cpu` is listed in /sys/devices/system/cpu/nohz_full.
pub fn is_nohz_full(cpu: u32) -> bool {
    std::fs::read_to_string("/sys/devices/system/cpu/nohz_full")
        .ok()
        .and_then(|t| cpulist::parse(t.trim()).ok())
        .is_some_and(|set| set.contains(cpu))
}

/// Runs `command` on `options.cpu`; `on_interruption` sees each interruption as it is
/// attributed (for a timeline). Returns once the program has exited.
pub fn run(
    options: &RunOptions,
    command: &[OsString],
    mut on_interruption: impl FnMut(&Interruption),
) -> Result<RunOutcome, RunError> {
    let cpu = options.cpu;
    require_suitable(cpu, options.allow_unisolated)?;
    let program = Program::resolve(command)?;
    move_off(cpu)?;
    // kallsyms first: reading it takes a while, and the rings fill meanwhile.
    let symbols = Symbols::load();
    let mut monitor = CpuMonitor::open(cpu)?;
    let strict = StrictRegistry::default();
    let make_filter = |status_fd: i32| bpf::supervised(status_fd);
    let mut child = spawn_pinned(
        &program.path,
        &program.argv,
        &program.envp,
        cpu,
        Some(&make_filter),
    )?;
    let pid = child.pid;
    let listener = NotifyListener::from_fd(child.listener.take().ok_or(RunError::Io {
        what: "receiving the seccomp listener",
        source: std::io::Error::other("no listener"),
    })?);
    let policy = supervisor::Policy {
        cpu,
        allow_unisolated: options.allow_unisolated,
        tgid: pid,
    };
    let supervisor_strict = strict.clone();
    let supervisor = std::thread::Builder::new()
        .name("isolate-seccomp".into())
        .spawn(move || supervisor::serve(&listener, &policy, &supervisor_strict))
        .map_err(|source| RunError::Io {
            what: "starting the supervisor thread",
            source,
        })?;
    if let Err(e) = child.exec_result() {
        let _ = wait_for_exit(pid);
        let _ = supervisor.join();
        return Err(e.into());
    }
    let started = Instant::now();
    let start_ns = monotonic_ns();
    let (exited_tx, exited_rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("isolate-wait".into())
        .spawn(move || {
            let _ = exited_tx.send(wait_for_exit(pid));
        })
        .map_err(|source| RunError::Io {
            what: "starting the waiter thread",
            source,
        })?;

    let mut tgids: HashMap<u32, bool> = HashMap::new();
    let is_program = move |tid: u32| {
        *tgids
            .entry(tid)
            .or_insert_with(|| tgid_of(tid) == Some(pid))
    };
    let mut attributor = Attributor::new(
        cpu,
        TickContext {
            nohz_full: is_nohz_full(cpu),
        },
        symbols,
        is_program,
    );
    let mut summary = Summary::default();
    let mut events = Vec::new();
    let mut interruptions = Vec::new();
    let mut strict_after_done = options.strict_after.is_none();
    let wait_status = loop {
        let exited = exited_rx.try_recv().ok();
        if !strict_after_done && options.strict_after.is_some_and(|d| started.elapsed() >= d) {
            strict_after_done = true;
            if strict.get(pid).is_none() {
                strict.arm(
                    pid,
                    StrictThread {
                        flags: 0,
                        signal: Some(options.strict_signal.unwrap_or(libc::SIGKILL)),
                        cpu,
                        armed_ns: monotonic_ns(),
                    },
                );
            }
        }
        events.clear();
        monitor.drain(&mut events);
        for event in &events {
            if let Kind::PageFault {
                address,
                error_code,
            } = event.kind
            {
                // A fault traced before the thread was armed (still in the ring when the
                // prctl was answered) is no violation.
                let armed = strict.get(event.pid).map(|t| t.armed_ns);
                if event.cpu == cpu && armed.is_some_and(|at| event.time_ns >= at) {
                    let what = format!("page fault (error code {error_code:#x}) at {address:#x}");
                    strict.violate(event.pid, pid, what, event.time_ns);
                }
            }
            interruptions.clear();
            attributor.feed(event, &mut interruptions);
            for i in &interruptions {
                summary.add(i);
                on_interruption(i);
            }
        }
        if let Some(status) = exited {
            break status.map_err(|source| RunError::Io {
                what: "waiting for the program",
                source,
            })?;
        }
        std::thread::sleep(options.poll_interval);
    };
    let duration_ns = monotonic_ns().saturating_sub(start_ns);
    // Not joined: children the program left running keep the filter (and the supervisor
    // busy) until they exit; once taskwatch exits, their notified calls fail with ENOSYS.
    drop(supervisor);
    Ok(RunOutcome {
        pid,
        wait_status,
        summary,
        duration_ns,
        lost: monitor.lost(),
        untraced: monitor.untraced().to_vec(),
        tick_reason: attributor.tick_reason(),
        violations: strict.violations(),
    })
}

/// Lets this thread (and the threads it starts) run anywhere but `cpu`.
pub(crate) fn move_off(cpu: u32) -> Result<(), RunError> {
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online")
        .ok()
        .and_then(|t| cpulist::parse(t.trim()).ok())
        .unwrap_or_default();
    let others: Vec<u32> = online.iter().filter(|&c| c != cpu).collect();
    set_current_thread_affinity(&others).map_err(|source| RunError::Io {
        what: "moving taskwatch off the isolated CPU",
        source,
    })
}

/// The thread-group id of `tid`, from /proc/TID/status; None once it is gone.
fn tgid_of(tid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|v| v.trim().parse().ok())
}
