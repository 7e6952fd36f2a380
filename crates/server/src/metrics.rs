//! The daemon's counters and their Prometheus text rendering: events in and out by kind,
//! losses per source and per subscriber, queue depths, subscribers and registrations.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use taskwatch_core::{EventKind, Kind, LossSource};

use crate::daemon::extension::HistoryCounts;
use crate::router::Router;

const SOURCES: [LossSource; 4] = [
    LossSource::ProcConnector,
    LossSource::ExecTrace,
    LossSource::Queue,
    LossSource::Taskstats,
];

/// Counters, updated without locks from the event path and the connections.
#[derive(Debug, Default)]
pub struct Metrics {
    events_in: [AtomicU64; Kind::ALL.len()],
    events_out: [AtomicU64; Kind::ALL.len()],
    /// Events lost before the daemon saw them, by source (counts from `lost` events).
    source_lost: [AtomicU64; SOURCES.len()],
    queue_drops: AtomicU64,
    connections: AtomicU64,
    connections_refused: AtomicU64,
    requests_refused: AtomicU64,
    /// The history recorder's counters, when the daemon records.
    history: Mutex<Option<HistoryCounts>>,
}

fn source_index(s: LossSource) -> usize {
    SOURCES.iter().position(|x| *x == s).unwrap_or(0)
}

fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

impl Metrics {
    /// Counts an event read from the kernel (and a loss's count by source).
    pub fn event_in(&self, kind: &EventKind) {
        add(&self.events_in[kind.kind().index()], 1);
        if let EventKind::Lost { count, source } = kind {
            add(&self.source_lost[source_index(*source)], *count);
        }
    }

    /// Counts an event queued for one subscriber.
    pub fn event_out(&self, kind: Kind) {
        add(&self.events_out[kind.index()], 1);
    }

    /// Counts an event dropped from a full subscriber queue.
    pub fn queue_drop(&self) {
        add(&self.queue_drops, 1);
    }

    /// Counts an accepted connection.
    pub fn connection(&self) {
        add(&self.connections, 1);
    }

    /// Counts a connection refused for the connection limit.
    pub fn connection_refused(&self) {
        add(&self.connections_refused, 1);
    }

    /// Counts a refused request.
    pub fn request_refused(&self) {
        add(&self.requests_refused, 1);
    }

    /// Publishes the history recorder's counters (rendered from now on).
    pub fn set_history(&self, counts: HistoryCounts) {
        *self.history.lock().unwrap_or_else(|p| p.into_inner()) = Some(counts);
    }

    fn render_history(&self, out: &mut String) {
        let Some(h) = *self.history.lock().unwrap_or_else(|p| p.into_inner()) else {
            return;
        };
        header(
            out,
            "taskwatch_history_recorded_total",
            "counter",
            "Lifetimes handed to the history writer, by kind.",
        );
        let _ = writeln!(
            out,
            "taskwatch_history_recorded_total{{kind=\"process\"}} {}",
            h.processes
        );
        let _ = writeln!(
            out,
            "taskwatch_history_recorded_total{{kind=\"thread\"}} {}",
            h.threads
        );
        header(
            out,
            "taskwatch_history_committed_total",
            "counter",
            "Lifetimes committed to the history database.",
        );
        let _ = writeln!(out, "taskwatch_history_committed_total {}", h.committed);
        header(
            out,
            "taskwatch_history_lost_total",
            "counter",
            "Lifetimes missing from the history, by cause (kernel losses are in taskwatch_lost_total).",
        );
        for (cause, n) in [
            ("writer_queue", h.lost_writer_queue),
            ("failed_commit", h.lost_failed_commit),
            ("exit_missed", h.exits_missed),
        ] {
            let _ = writeln!(out, "taskwatch_history_lost_total{{cause=\"{cause}\"}} {n}");
        }
        header(
            out,
            "taskwatch_history_without_stats_total",
            "counter",
            "Process lifetimes recorded without their taskstats record.",
        );
        let _ = writeln!(
            out,
            "taskwatch_history_without_stats_total {}",
            h.without_stats
        );
    }

    /// The Prometheus text exposition.
    pub fn render(&self, router: &Router) -> String {
        let mut out = String::with_capacity(4096);
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        header(
            &mut out,
            "taskwatch_events_in_total",
            "counter",
            "Events read from the kernel, by kind.",
        );
        for k in Kind::ALL {
            let _ = writeln!(
                out,
                "taskwatch_events_in_total{{kind=\"{}\"}} {}",
                k.name(),
                load(&self.events_in[k.index()])
            );
        }
        header(
            &mut out,
            "taskwatch_events_out_total",
            "counter",
            "Events queued for subscribers (one per subscriber), by kind.",
        );
        for k in Kind::ALL {
            let _ = writeln!(
                out,
                "taskwatch_events_out_total{{kind=\"{}\"}} {}",
                k.name(),
                load(&self.events_out[k.index()])
            );
        }
        header(
            &mut out,
            "taskwatch_lost_total",
            "counter",
            "Events lost, by source (queue: dropped from full subscriber queues).",
        );
        for s in SOURCES {
            let n = if s == LossSource::Queue {
                load(&self.queue_drops)
            } else {
                load(&self.source_lost[source_index(s)])
            };
            let _ = writeln!(out, "taskwatch_lost_total{{source=\"{}\"}} {n}", s.as_str());
        }
        header(
            &mut out,
            "taskwatch_connections_total",
            "counter",
            "Connections accepted.",
        );
        let _ = writeln!(
            out,
            "taskwatch_connections_total {}",
            load(&self.connections)
        );
        header(
            &mut out,
            "taskwatch_connections_refused_total",
            "counter",
            "Connections refused (connection limit).",
        );
        let _ = writeln!(
            out,
            "taskwatch_connections_refused_total {}",
            load(&self.connections_refused)
        );
        header(
            &mut out,
            "taskwatch_requests_refused_total",
            "counter",
            "Requests answered with an error.",
        );
        let _ = writeln!(
            out,
            "taskwatch_requests_refused_total {}",
            load(&self.requests_refused)
        );

        let subs = router.subscribers();
        header(
            &mut out,
            "taskwatch_subscribers",
            "gauge",
            "Connected subscribers.",
        );
        let _ = writeln!(out, "taskwatch_subscribers {}", subs.len());
        header(
            &mut out,
            "taskwatch_registrations",
            "gauge",
            "Registrations over all subscribers.",
        );
        let _ = writeln!(
            out,
            "taskwatch_registrations {}",
            subs.iter().map(|(_, n)| n).sum::<usize>()
        );
        header(
            &mut out,
            "taskwatch_queued_bytes",
            "gauge",
            "Bytes queued over all subscribers.",
        );
        let _ = writeln!(
            out,
            "taskwatch_queued_bytes {}",
            subs.iter().map(|(s, _)| s.queue.bytes()).sum::<usize>()
        );
        header(
            &mut out,
            "taskwatch_subscriber_queue_events",
            "gauge",
            "Events queued per subscriber.",
        );
        for (s, _) in &subs {
            let _ = writeln!(
                out,
                "taskwatch_subscriber_queue_events{{{}}} {}",
                labels(s),
                s.queue.len()
            );
        }
        header(
            &mut out,
            "taskwatch_subscriber_delivered_total",
            "counter",
            "Events queued per subscriber.",
        );
        for (s, _) in &subs {
            let _ = writeln!(
                out,
                "taskwatch_subscriber_delivered_total{{{}}} {}",
                labels(s),
                s.delivered()
            );
        }
        header(
            &mut out,
            "taskwatch_subscriber_lost_total",
            "counter",
            "Events dropped per subscriber (its queue was full).",
        );
        for (s, _) in &subs {
            let _ = writeln!(
                out,
                "taskwatch_subscriber_lost_total{{{}}} {}",
                labels(s),
                s.lost()
            );
        }
        self.render_history(&mut out);
        out
    }
}

fn labels(s: &crate::subscriber::Subscriber) -> String {
    format!(
        "subscriber=\"{}\",pid=\"{}\",uid=\"{}\"",
        s.id, s.peer.pid, s.peer.uid
    )
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}
