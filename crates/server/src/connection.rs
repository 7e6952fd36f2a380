//! One client connection: hello, then requests answered in order while queued events are
//! written out; a refused request leaves the connection usable; closing removes it at once.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use taskwatch_core::clock::WallClock;
use taskwatch_core::event::NO_CPU;
use taskwatch_core::{json, Event, EventKind, Ids, LossSource, Task};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::watch;

use crate::access::{AccessConfig, Visibility};
use crate::config::Limits;
use crate::interest::{FilterLimits, Interest};
use crate::line_reader::{LineOutcome, LineReader};
use crate::machine::Machine;
use crate::metrics::Metrics;
use crate::protocol::{
    error_line, parse_request, ErrorCode, Hello, Reply, Request, RequestError,
    OLDEST_PROTOCOL_VERSION, PROTOCOL_VERSION,
};
use crate::queue::Drained;
use crate::router::{RouteError, Router};
use crate::subscriber::{Peer, Subscriber};

/// What every connection shares.
pub(crate) struct Shared {
    pub router: Arc<Router>,
    pub metrics: Arc<Metrics>,
    pub machine: Machine,
    pub limits: Limits,
    pub access: AccessConfig,
    pub instance: String,
    /// The daemon listens to taskstats: exit events can carry `stats`.
    pub exit_stats: bool,
    pub realtime_minus_monotonic_ns: i128,
    pub next_id: AtomicU64,
    pub open: AtomicUsize,
}

/// Removes the subscriber however the connection ends.
struct Registered<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.shared.router.remove_subscriber(self.id);
        self.shared.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves one connection until it closes or the daemon stops.
pub(crate) async fn serve(
    stream: UnixStream,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<Option<String>>,
) {
    let peer = match stream.peer_cred() {
        Ok(c) => Peer {
            pid: c.pid().and_then(|p| u32::try_from(p).ok()).unwrap_or(0),
            uid: c.uid(),
            gid: c.gid(),
        },
        Err(e) => {
            tracing::warn!("dropping a connection without peer credentials: {e}");
            shared.open.fetch_sub(1, Ordering::Relaxed);
            return;
        }
    };
    let visibility = Visibility::for_peer(peer.uid, peer.gid, &shared.access);
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
    let sub = Arc::new(Subscriber::new(
        id,
        peer,
        visibility,
        shared.limits.queue_bytes,
    ));
    shared.router.add_subscriber(Arc::clone(&sub));
    let _registered = Registered {
        shared: &shared,
        id,
    };
    tracing::debug!(
        subscriber = id,
        pid = peer.pid,
        uid = peer.uid,
        "client connected"
    );
    let (mut rd, mut wr) = stream.into_split();
    let hello = Reply::Hello(hello(&shared, peer, visibility)).to_line();
    if wr.write_all(&hello).await.is_err() {
        return;
    }
    let mut lines = LineReader::new(shared.limits.max_request_bytes);
    let mut outcomes = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let mut drained = Drained::default();
    let mut out = Vec::new();
    let mut clock = WallClock::new(shared.realtime_minus_monotonic_ns, time::UtcOffset::UTC);
    let reason = loop {
        if let Some(reason) = shutdown.borrow_and_update().clone() {
            break Some(reason);
        }
        out.clear();
        tokio::select! {
            biased;
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break Some("daemon stopping".to_owned());
                }
                continue;
            }
            read = rd.read(&mut chunk) => {
                let n = match read {
                    Ok(0) | Err(_) => break None,
                    Ok(n) => n,
                };
                lines.feed(&chunk[..n], &mut outcomes);
                // Events queued before the reply go first, so a `registered` reply is
                // followed only by events routed under the new registration.
                take_events(&sub, &mut drained, &mut out, &mut clock);
                for outcome in outcomes.drain(..) {
                    out.extend_from_slice(&handle(outcome, &shared, &sub));
                }
            }
            () = sub.wake.notified() => take_events(&sub, &mut drained, &mut out, &mut clock),
        }
        if !out.is_empty() && wr.write_all(&out).await.is_err() {
            break None;
        }
    };
    if let Some(reason) = reason {
        out.clear();
        take_events(&sub, &mut drained, &mut out, &mut clock);
        out.extend_from_slice(&Reply::Shutdown { reason }.to_line());
        let _ = wr.write_all(&out).await;
        let _ = wr.shutdown().await;
    }
    tracing::debug!(subscriber = id, "client gone");
}

/// Moves queued events into `out`, followed by a `lost` line when events were dropped.
fn take_events(sub: &Subscriber, drained: &mut Drained, out: &mut Vec<u8>, clock: &mut WallClock) {
    sub.queue.drain(drained);
    for line in drained.lines.drain(..) {
        out.extend_from_slice(&line);
    }
    if drained.lost > 0 {
        let lost = Event {
            cpu: NO_CPU,
            ts_ns: drained.lost_ts_ns,
            kind: EventKind::Lost {
                count: drained.lost,
                source: LossSource::Queue,
            },
        };
        json::write_event(out, &lost, &Task::unknown(Ids::default()), clock);
        drained.lost = 0;
    }
}

fn hello(shared: &Shared, peer: Peer, visibility: Visibility) -> Hello {
    Hello {
        protocol: PROTOCOL_VERSION,
        server: format!("taskwatch {}", env!("CARGO_PKG_VERSION")),
        instance: shared.instance.clone(),
        ts_ns: taskwatch_kernel::clock::monotonic_ns(),
        nr_cpu_ids: shared.machine.nr_cpu_ids,
        possible_cpus: shared.machine.possible.to_string(),
        uid: peer.uid,
        sees: visibility.name(),
        exit_stats: shared.exit_stats,
        limits: shared.limits.info(),
    }
}

fn handle(outcome: LineOutcome, shared: &Shared, sub: &Subscriber) -> Vec<u8> {
    let result = match outcome {
        LineOutcome::TooLong { len } => Err(RequestError::new(
            ErrorCode::TooLong,
            format!(
                "request of {len} bytes is longer than the limit of {} bytes; it was skipped",
                shared.limits.max_request_bytes
            ),
        )),
        LineOutcome::Line(line) => {
            parse_request(&line).and_then(|(request, tag)| apply(request, tag, shared, sub))
        }
    };
    match result {
        Ok(reply) => reply.to_line(),
        Err(e) => {
            shared.metrics.request_refused();
            tracing::debug!(subscriber = sub.id, "request refused: {e}");
            error_line(&e)
        }
    }
}

fn apply(
    request: Request,
    tag: Option<serde_json::Value>,
    shared: &Shared,
    sub: &Subscriber,
) -> Result<Reply, RequestError> {
    let refuse =
        |code, message: String| Err(RequestError::new(code, message).with_tag(tag.clone()));
    match request {
        Request::Hello { protocol }
            if !(OLDEST_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&protocol) =>
        {
            refuse(
                ErrorCode::UnsupportedProtocol,
                format!(
                    "protocol {protocol} is not spoken here: this server speaks \
                     {OLDEST_PROTOCOL_VERSION} to {PROTOCOL_VERSION}"
                ),
            )
        }
        Request::Hello { .. } => Ok(Reply::Hello(hello(shared, sub.peer, sub.visibility))),
        Request::Ping => Ok(Reply::Pong { tag }),
        Request::Register(r) => {
            let held = shared.router.registrations_of(sub.id);
            if held >= shared.limits.max_registrations {
                return refuse(
                    ErrorCode::TooManyRegistrations,
                    format!(
                        "this connection holds {held} registrations, the most allowed; deregister one first"
                    ),
                );
            }
            if r.exit_stats && !shared.exit_stats {
                return refuse(
                    ErrorCode::ExitStatsUnavailable,
                    "exit_stats: this daemon does not listen to taskstats (see its log)".into(),
                );
            }
            let limits = FilterLimits {
                max_entries: shared.limits.max_filter_entries,
            };
            let interest = Interest::resolve(&r, &shared.machine, limits)
                .map_err(|e| e.with_tag(tag.clone()))?;
            let cpus = interest.cpus.to_string();
            let events = interest.kind_names();
            match shared.router.register(sub.id, interest) {
                Ok(registration) => Ok(Reply::Registered {
                    tag,
                    registration,
                    cpus,
                    events,
                }),
                Err(_) => refuse(ErrorCode::UnknownRegistration, "connection closing".into()),
            }
        }
        Request::Deregister { registration } => {
            match shared.router.deregister(sub.id, registration) {
                Ok(()) => Ok(Reply::Deregistered { tag, registration }),
                Err(RouteError::UnknownRegistration | RouteError::UnknownSubscriber) => refuse(
                    ErrorCode::UnknownRegistration,
                    format!("no registration {registration} on this connection"),
                ),
            }
        }
    }
}
