//! The one kernel reader: a thread that reads the live source, keeps the process table
//! and dispatches every event to the fan-out watcher, until told to stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use taskwatch_core::Dispatcher;
use taskwatch_kernel::clock::monotonic_ns;
use taskwatch_kernel::probe::ProcProbe;
use taskwatch_kernel::source::LiveSource;
use tokio::sync::{oneshot, watch};

use super::extension::ReaderExtension;
use crate::fanout::Fanout;
use crate::metrics::Metrics;

/// How often the stop flag is looked at when no event comes.
const POLL: Duration = Duration::from_millis(100);
/// How often an extension publishes its counters.
const PUBLISH: Duration = Duration::from_millis(500);

/// What the reader thread is given.
pub(crate) struct ReaderParts {
    pub source: LiveSource,
    pub fanout: Arc<Fanout>,
    pub metrics: Arc<Metrics>,
    pub extension: Option<Box<dyn ReaderExtension>>,
    pub stop: Arc<AtomicBool>,
    pub ready: oneshot::Sender<usize>,
    pub shutdown: watch::Sender<Option<String>>,
}

/// Runs the reader on the calling thread. Sends the table size on `ready` once the /proc
/// bootstrap is done; when it ends, sends the reason on `shutdown` (after every event read
/// has been queued). Returns an error message when the source or the extension failed.
pub(crate) fn run(parts: ReaderParts) -> Result<(), String> {
    let ReaderParts {
        mut source,
        fanout,
        metrics,
        mut extension,
        stop,
        ready,
        shutdown,
    } = parts;
    if let Some(ext) = extension.as_mut() {
        if let Err(e) = ext.start() {
            let _ = shutdown.send(Some(format!("daemon failed: {e}")));
            return Err(e);
        }
    }
    let mut dispatcher = Dispatcher::new(ProcProbe::new());
    dispatcher.dynamic().register(
        None,
        "taskwatch_server::fanout",
        Arc::new(move |ctx| fanout.on_event(ctx)),
    );
    dispatcher.bootstrap(monotonic_ns());
    let _ = ready.send(dispatcher.table().len());
    let mut events = Vec::with_capacity(4096);
    let mut failure = None;
    let mut published = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if let Err(e) = source.read(POLL, &mut events) {
            failure = Some(format!("reading the proc connector: {e}"));
            break;
        }
        for ev in events.drain(..) {
            dispatcher.dispatch(ev);
        }
        if let Some(ext) = extension
            .as_mut()
            .filter(|_| published.elapsed() >= PUBLISH)
        {
            ext.publish(&metrics);
            published = Instant::now();
        }
    }
    source.finish(&mut events);
    for ev in events.drain(..) {
        dispatcher.dispatch(ev);
    }
    if let Some(ext) = extension.as_mut() {
        if let Err(e) = ext.finish(&metrics) {
            tracing::error!("{e}");
        }
    }
    let st = source.stats();
    tracing::info!(
        events = st.connector.events,
        lost = st.connector.lost,
        "kernel reader stopped"
    );
    let reason = match &failure {
        Some(f) => format!("daemon failed: {f}"),
        None => "daemon stopping".to_owned(),
    };
    let _ = shutdown.send(Some(reason));
    failure.map_or(Ok(()), Err)
}
