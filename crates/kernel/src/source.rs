//! The live event source: proc connector events, each exec joined with its path from the
//! exec tracepoint (race-free) and its argv from /proc (best effort), losses in band.

use std::time::Duration;

use taskwatch_core::event::{Event, EventKind, LossSource, NO_CPU};

use crate::clock::monotonic_ns;
use crate::connector::{ConnectorConfig, ConnectorError, ConnectorStats, ProcConnector, Received};
use crate::exec_trace::{ExecTraceError, ExecTracer};
use crate::exit_stats_source::ExitStatsSource;
use crate::procfs;
use crate::taskstats::{ListenerConfig, TaskstatsError};
use taskwatch_core::stats_join::DEFAULT_WAIT_NS;

/// What to open.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// The proc connector subscription.
    pub connector: ConnectorConfig,
    /// Trace exec paths with the sched_process_exec tracepoint (else /proc/PID/exe).
    pub exec_paths: bool,
    /// Pages per CPU for the exec tracepoint ring (a power of two).
    pub exec_ring_pages: usize,
    /// Read /proc/PID/cmdline for each exec.
    pub argv: bool,
    /// After a read that found events, let more accumulate for this long before the next
    /// read: one wake-up per batch instead of per message, at a bounded added latency.
    pub batch_wait: Duration,
    /// Listen for exit statistics (taskstats) and put them on exit events.
    pub exit_stats: Option<ListenerConfig>,
    /// How long an exit waits for its statistics before going out without.
    pub exit_stats_wait: Duration,
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            connector: ConnectorConfig::default(),
            exec_paths: true,
            exec_ring_pages: 256,
            argv: true,
            batch_wait: Duration::from_millis(1),
            exit_stats: None,
            exit_stats_wait: Duration::from_nanos(DEFAULT_WAIT_NS),
        }
    }
}

/// Counters of the source beyond the connector's own.
#[derive(Debug, Default, Clone, Copy)]
pub struct SourceStats {
    /// The connector's counters.
    pub connector: ConnectorStats,
    /// Exec events whose path came from the tracepoint.
    pub exe_traced: u64,
    /// Exec events whose path came from /proc (tracepoint record missing).
    pub exe_from_proc: u64,
    /// Exec events with no path at all (the task was gone).
    pub exe_missing: u64,
    /// Exec records the tracepoint rings lost.
    pub exec_trace_lost: u64,
}

/// Why the source could not open.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The proc connector.
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    /// The taskstats listener.
    #[error(transparent)]
    Taskstats(#[from] TaskstatsError),
}

/// The live source.
pub struct LiveSource {
    connector: ProcConnector,
    exec: Option<ExecTracer>,
    argv: bool,
    batch_wait: Duration,
    busy: bool,
    received: Vec<Received>,
    stats: SourceStats,
    warned_malformed: bool,
    exit_stats: Option<ExitStatsSource>,
    fresh: Vec<Event>,
}

impl LiveSource {
    /// Opens the connector and, when asked, the exec tracer. A tracer that cannot open
    /// is not fatal: paths then come from /proc, and the reason is returned alongside.
    pub fn open(config: &SourceConfig) -> Result<(Self, Option<ExecTraceError>), SourceError> {
        let (exec, exec_error) = if config.exec_paths {
            match ExecTracer::open(config.exec_ring_pages) {
                Ok(t) => (Some(t), None),
                Err(e) => (None, Some(e)),
            }
        } else {
            (None, None)
        };
        let exit_stats = match &config.exit_stats {
            Some(c) => Some(ExitStatsSource::open(
                c.clone(),
                u64::try_from(config.exit_stats_wait.as_nanos()).unwrap_or(u64::MAX),
            )?),
            None => None,
        };
        let connector = ProcConnector::open(&config.connector)?;
        let source = LiveSource {
            connector,
            exec,
            argv: config.argv,
            batch_wait: config.batch_wait,
            busy: false,
            received: Vec::with_capacity(config.connector.batch * 2),
            stats: SourceStats::default(),
            warned_malformed: false,
            exit_stats,
            fresh: Vec::new(),
        };
        Ok((source, exec_error))
    }

    /// The connector (for its settings).
    pub fn connector(&self) -> &ProcConnector {
        &self.connector
    }

    /// Counters so far.
    pub fn stats(&self) -> SourceStats {
        SourceStats {
            connector: self.connector.stats(),
            ..self.stats
        }
    }

    /// The exit statistics side, when asked for.
    pub fn exit_stats(&self) -> Option<&ExitStatsSource> {
        self.exit_stats.as_ref()
    }

    /// Waits up to `timeout`, then appends every queued event to `out`; with exit
    /// statistics, an exit whose record has not come yet holds back what follows it.
    pub fn read(
        &mut self,
        timeout: Duration,
        out: &mut Vec<Event>,
    ) -> Result<usize, ConnectorError> {
        let Some(mut stats) = self.exit_stats.take() else {
            return self.read_events(timeout, out);
        };
        let mut fresh = std::mem::take(&mut self.fresh);
        let result = self.read_events(timeout, &mut fresh);
        let before = out.len();
        stats.process(&mut fresh, out);
        self.fresh = fresh;
        self.exit_stats = Some(stats);
        result.map(|_| out.len() - before)
    }

    fn read_events(
        &mut self,
        timeout: Duration,
        out: &mut Vec<Event>,
    ) -> Result<usize, ConnectorError> {
        if self.busy && !self.batch_wait.is_zero() {
            std::thread::sleep(self.batch_wait.min(timeout));
        }
        let received = &mut self.received;
        self.connector.read(timeout, &mut |r| received.push(r))?;
        self.busy = !self.received.is_empty();
        if self.received.is_empty() {
            return Ok(0);
        }
        // Every exec in this batch was traced before its connector message was sent.
        let has_exec = self.received.iter().any(|r| matches!(r, Received::Event(e) if e.data.what() == taskwatch_wire::proc_event::what::EXEC));
        if has_exec {
            if let Some(tracer) = self.exec.as_mut() {
                tracer.drain();
            }
        }
        let before = out.len();
        let mut received = std::mem::take(&mut self.received);
        for r in received.drain(..) {
            match r {
                Received::Event(pe) => {
                    if let Some(mut ev) = Event::from_proc_event(&pe) {
                        if let EventKind::Exec { task, exe, argv } = &mut ev.kind {
                            *exe = self.exe_of(task.pid, pe.timestamp_ns);
                            if self.argv {
                                *argv = procfs::read_cmdline(task.pid);
                            }
                        }
                        out.push(ev);
                    }
                }
                Received::Lost(count) => out.push(lost(count, LossSource::ProcConnector)),
                Received::Malformed(e) => {
                    if !self.warned_malformed {
                        tracing::warn!("skipping a malformed proc connector message: {e}");
                        self.warned_malformed = true;
                    }
                }
            }
        }
        self.received = received;
        self.report_exec_trace_loss(out);
        Ok(out.len() - before)
    }

    /// Appends losses only visible at the end (drops at the tail of a CPU's stream), and
    /// with exit statistics, closes the shards and releases every held event.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        let mut tail = Vec::new();
        if let Some(count) = self.connector.final_losses() {
            tail.push(lost(count, LossSource::ProcConnector));
        }
        if let Some(t) = self.exec.as_mut() {
            t.drain();
        }
        self.report_exec_trace_loss(&mut tail);
        match self.exit_stats.as_mut() {
            Some(stats) => {
                stats.process(&mut tail, out);
                stats.finish(out);
            }
            None => out.append(&mut tail),
        }
    }

    fn exe_of(&mut self, pid: u32, ts_ns: u64) -> Option<std::sync::Arc<str>> {
        // A pid may exec twice before we look: take the record traced just before this
        // connector message, not the newest.
        if let Some((_, path)) = self.exec.as_mut().and_then(|t| t.take_at(pid, ts_ns)) {
            self.stats.exe_traced += 1;
            // The tracepoint gives the path as passed to execve; a relative one means little
            // later, so prefer the kernel's resolved link while the process still lives.
            if !path.starts_with(b"/") {
                if let Some(resolved) = procfs::read_exe(pid) {
                    return Some(resolved);
                }
            }
            return Some(std::sync::Arc::from(
                String::from_utf8_lossy(&path).as_ref(),
            ));
        }
        let exe = procfs::read_exe(pid);
        if exe.is_some() {
            self.stats.exe_from_proc += 1;
        } else {
            self.stats.exe_missing += 1;
        }
        exe
    }

    fn report_exec_trace_loss(&mut self, out: &mut Vec<Event>) {
        let Some(t) = self.exec.as_ref() else { return };
        let lost_now = t.lost();
        if lost_now > self.stats.exec_trace_lost {
            out.push(lost(
                lost_now - self.stats.exec_trace_lost,
                LossSource::ExecTrace,
            ));
            self.stats.exec_trace_lost = lost_now;
        }
    }
}

fn lost(count: u64, source: LossSource) -> Event {
    Event {
        cpu: NO_CPU,
        ts_ns: monotonic_ns(),
        kind: EventKind::Lost { count, source },
    }
}
