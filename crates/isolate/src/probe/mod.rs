//! `isolate probe`: an oslat/osnoise-style busy loop on one CPU while the CPU is traced;
//! every gap over the threshold is joined with the interruptions traced in it.
//!
//! The loop thread is pinned to the CPU; taskwatch's other threads are moved off it and
//! read the rings every few milliseconds.

mod busy_loop;
mod histogram;
mod join;
pub mod svg;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use busy_loop::{Gap, LoopResult};
pub use histogram::Histogram;
pub use join::{ExplainedGap, UNEXPLAINED};

use taskwatch_kernel::task_control::pin_current_thread;

use crate::attribution::{Attributor, Interruption, Summary, TickContext};
use crate::runner::{is_nohz_full, move_off, RunError};
use crate::suitability::require_suitable;
use crate::trace::monitor::CpuMonitor;
use crate::trace::symbols::Symbols;

/// The probe's settings.
#[derive(Debug, Clone, Copy)]
pub struct ProbeOptions {
    /// The CPU.
    pub cpu: u32,
    /// How long to spin.
    pub duration_ns: u64,
    /// Gaps longer than this are kept and attributed.
    pub threshold_ns: u64,
    /// Gaps kept at most (more are counted).
    pub max_gaps: usize,
}

/// What the probe found.
#[derive(Debug)]
pub struct ProbeOutcome {
    /// The loop's measurements.
    pub measured: LoopResult,
    /// Every interruption traced during the loop, by start time.
    pub interruptions: Vec<Interruption>,
    /// Each gap with its causes.
    pub explained: Vec<ExplainedGap>,
    /// Gaps by main cause.
    pub summary: Summary,
    /// Steal time of the CPU during the probe (None when the kernel does not count it).
    pub steal_ns: Option<u64>,
    /// Trace records lost.
    pub lost: u64,
    /// Tracepoints this kernel lacks.
    pub untraced: Vec<String>,
    /// Why the tick kept running.
    pub tick_reason: String,
}

impl ProbeOutcome {
    /// Gaps with at least one traced cause.
    pub fn attributed(&self) -> usize {
        self.explained
            .iter()
            .filter(|e| !e.causes.is_empty())
            .count()
    }
}

/// Runs the probe.
pub fn probe(options: &ProbeOptions) -> Result<ProbeOutcome, RunError> {
    let cpu = options.cpu;
    require_suitable(cpu, true)?;
    move_off(cpu)?;
    let symbols = Symbols::load();
    let mut monitor = CpuMonitor::open(cpu)?;
    let probe_tid = Arc::new(AtomicU32::new(0));
    let tid_seen = Arc::clone(&probe_tid);
    let mut attributor = Attributor::new(
        cpu,
        TickContext {
            nohz_full: is_nohz_full(cpu),
        },
        symbols,
        move |pid| pid == tid_seen.load(Ordering::Relaxed),
    );
    let steal_before = steal_ticks(cpu);
    let loop_tid = Arc::clone(&probe_tid);
    let opts = *options;
    let spinner = std::thread::Builder::new()
        .name("isolate-probe".into())
        .spawn(move || {
            pin_current_thread(opts.cpu)?;
            loop_tid.store(current_tid(), Ordering::SeqCst);
            Ok::<_, std::io::Error>(busy_loop::spin(
                opts.duration_ns,
                opts.threshold_ns,
                opts.max_gaps,
            ))
        })
        .map_err(|source| RunError::Io {
            what: "starting the probe thread",
            source,
        })?;
    let mut events = Vec::new();
    let mut interruptions = Vec::new();
    let mut drain = |monitor: &mut CpuMonitor, interruptions: &mut Vec<Interruption>| {
        events.clear();
        monitor.drain(&mut events);
        for event in &events {
            attributor.feed(event, interruptions);
        }
    };
    while !spinner.is_finished() {
        std::thread::sleep(Duration::from_millis(5));
        drain(&mut monitor, &mut interruptions);
    }
    let measured = spinner
        .join()
        .map_err(|_| RunError::Io {
            what: "the probe thread",
            source: std::io::Error::other("panicked"),
        })?
        .map_err(|source| RunError::Io {
            what: "pinning the probe thread",
            source,
        })?;
    drain(&mut monitor, &mut interruptions);
    let steal_ns = match (steal_before, steal_ticks(cpu)) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a) * 10_000_000),
        _ => None,
    };
    interruptions.retain(|i| i.end_ns >= measured.start_ns && i.start_ns <= measured.end_ns);
    interruptions.sort_by_key(|i| i.start_ns);
    let explained = join::join(&measured.gaps, &interruptions);
    let summary = join::summarize(&explained, &interruptions);
    Ok(ProbeOutcome {
        measured,
        interruptions,
        explained,
        summary,
        steal_ns,
        lost: monitor.lost(),
        untraced: monitor.untraced().to_vec(),
        tick_reason: attributor.tick_reason(),
    })
}

/// The calling thread's id, from /proc/thread-self (a link to "PID/task/TID").
fn current_tid() -> u32 {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name()?.to_str()?.parse().ok())
        .unwrap_or(0)
}

/// The CPU's steal column in /proc/stat (USER_HZ ticks; 100 per second on Linux).
fn steal_ticks(cpu: u32) -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let prefix = format!("cpu{cpu} ");
    let line = stat.lines().find(|l| l.starts_with(&prefix))?;
    line.split_whitespace().nth(8)?.parse().ok()
}
