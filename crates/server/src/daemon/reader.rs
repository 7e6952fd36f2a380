//! The one kernel reader: a thread that reads the live source, keeps the process table
//! and dispatches every event to the fan-out watcher, until told to stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use taskwatch_core::Dispatcher;
use taskwatch_kernel::clock::monotonic_ns;
use taskwatch_kernel::probe::ProcProbe;
use taskwatch_kernel::source::LiveSource;
use tokio::sync::{oneshot, watch};

use crate::fanout::Fanout;

/// How often the stop flag is looked at when no event comes.
const POLL: Duration = Duration::from_millis(100);

/// Runs the reader on the calling thread. Sends the table size on `ready` once the /proc
/// bootstrap is done; when it ends, sends the reason on `shutdown` (after every event read
/// has been queued). Returns an error message when the source failed.
pub(crate) fn run(
    mut source: LiveSource,
    fanout: Arc<Fanout>,
    stop: Arc<AtomicBool>,
    ready: oneshot::Sender<usize>,
    shutdown: watch::Sender<Option<String>>,
) -> Result<(), String> {
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
    while !stop.load(Ordering::Relaxed) {
        if let Err(e) = source.read(POLL, &mut events) {
            failure = Some(format!("reading the proc connector: {e}"));
            break;
        }
        for ev in events.drain(..) {
            dispatcher.dispatch(ev);
        }
    }
    source.finish(&mut events);
    for ev in events.drain(..) {
        dispatcher.dispatch(ev);
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
