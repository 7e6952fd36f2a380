//! `taskwatch daemon`: opens the kernel sockets and the listening socket, drops the
//! capabilities it no longer needs, then serves subscribers until told to stop.
//!
//! Threads: the kernel reader (one, see `reader`) and the connection runtime (tokio,
//! current-thread, on the caller's thread): the event path never waits for a client.

pub mod extension;
mod reader;
pub mod socket;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use taskwatch_core::clock::WallClock;
use taskwatch_kernel::capabilities::{self, CAP_NET_ADMIN, CAP_SYS_PTRACE};
use taskwatch_kernel::clock::{monotonic_ns, realtime_minus_monotonic_ns};
use taskwatch_kernel::connector::ConnectorConfig;
use taskwatch_kernel::exec_trace::ExecTraceError;
use taskwatch_kernel::source::{LiveSource, SourceConfig, SourceError};
use taskwatch_kernel::taskstats::ListenerConfig;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

use crate::config::DaemonConfig;
use crate::connection::{self, Shared};
use crate::fanout::Fanout;
use crate::machine::Machine;
use crate::metrics::Metrics;
use crate::protocol::{error_line, ErrorCode, RequestError};
use crate::router::Router;
use extension::ReaderExtension;

/// How long clients get to take their last events and the shutdown notice.
const GOODBYE: Duration = Duration::from_secs(3);

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The kernel source did not open.
    #[error("cannot open the kernel event source: {0}")]
    Source(#[from] SourceError),
    /// The machine's CPUs could not be read.
    #[error("cannot read the CPU layout: {0}")]
    Cpus(#[from] taskwatch_kernel::cpus::CpusError),
    /// The socket could not be set up.
    #[error("socket {path}: {source}")]
    Socket {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No such group.
    #[error("group {0:?}: no such group in /etc/group")]
    UnknownGroup(String),
    /// The metrics address is not a loopback address.
    #[error("metrics address {0}: only loopback addresses are served (127.0.0.1, ::1)")]
    MetricsNotLoopback(SocketAddr),
    /// The metrics listener could not be bound.
    #[error("metrics address {addr}: {source}")]
    Metrics {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Capabilities could not be dropped.
    #[error(transparent)]
    Capabilities(#[from] capabilities::CapsError),
    /// The async runtime could not start.
    #[error("starting the connection runtime: {0}")]
    Runtime(std::io::Error),
    /// The kernel reader failed while running.
    #[error("{0}")]
    Reader(String),
}

/// Runs the daemon until `stop` is set (by SIGTERM or SIGINT) or the source fails;
/// `extension` runs on the kernel reader thread (see [`extension::ReaderExtension`]).
pub fn run(
    config: DaemonConfig,
    stop: Arc<AtomicBool>,
    extension: Option<Box<dyn ReaderExtension>>,
) -> Result<(), DaemonError> {
    let machine = Machine::read()?;
    let gid = match &config.group {
        Some(g) => {
            Some(socket::resolve_group(g).ok_or_else(|| DaemonError::UnknownGroup(g.clone()))?)
        }
        None => None,
    };
    if let Some(addr) = config.metrics {
        if !addr.ip().is_loopback() {
            return Err(DaemonError::MetricsNotLoopback(addr));
        }
    }
    let source_config = SourceConfig {
        connector: ConnectorConfig {
            rcvbuf_bytes: config.source.rcvbuf_bytes,
            ..ConnectorConfig::default()
        },
        exec_paths: true,
        argv: config.source.argv,
        batch_wait: Duration::from_micros(config.source.batch_wait_us),
        ..SourceConfig::default()
    };
    let (source, exec_error, exit_stats) = open_source(source_config, config.source.exit_stats)?;
    if let Some(e) = exec_error {
        tracing::warn!(
            "exec paths will come from /proc and may be missing for short-lived processes: {e}"
        );
    }
    let listener = socket::bind(&config.socket, config.socket_mode, gid).map_err(|source| {
        DaemonError::Socket {
            path: config.socket.clone(),
            source,
        }
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| DaemonError::Socket {
            path: config.socket.clone(),
            source,
        })?;
    let metrics_listener = match config.metrics {
        Some(addr) => {
            let l = std::net::TcpListener::bind(addr)
                .map_err(|source| DaemonError::Metrics { addr, source })?;
            l.set_nonblocking(true)
                .map_err(|source| DaemonError::Metrics { addr, source })?;
            Some(l)
        }
        None => None,
    };
    // Every kernel socket and file we need is open: from here on, only reading other
    // users' /proc/PID/exe needs privilege. The only threads started yet are the taskstats
    // shards, which dropped theirs; every later thread inherits this thread's sets.
    let caps = capabilities::keep_only(&[CAP_SYS_PTRACE])?;
    tracing::info!(
        effective = format!("{:#x}", caps.effective),
        bounding = format!("{:#x}", caps.bounding),
        "capabilities dropped"
    );

    let router = Arc::new(Router::new(machine.nr_cpu_ids));
    let metrics = Arc::new(Metrics::default());
    let offset = realtime_minus_monotonic_ns();
    let fanout = Arc::new(Fanout::new(
        Arc::clone(&router),
        Arc::clone(&metrics),
        WallClock::new(offset, time::UtcOffset::UTC),
    ));
    let shared = Arc::new(Shared {
        router: Arc::clone(&router),
        metrics: Arc::clone(&metrics),
        machine,
        limits: config.limits.clone(),
        access: config.access.clone(),
        instance: format!("{}-{}", std::process::id(), monotonic_ns()),
        exit_stats,
        realtime_minus_monotonic_ns: offset,
        next_id: AtomicU64::new(1),
        open: AtomicUsize::new(0),
    });

    let (ready_tx, ready_rx) = oneshot::channel();
    let (shutdown_tx, shutdown_rx) = watch::channel(None);
    let parts = reader::ReaderParts {
        source,
        fanout,
        metrics: Arc::clone(&metrics),
        extension,
        stop: Arc::clone(&stop),
        ready: ready_tx,
        shutdown: shutdown_tx,
    };
    let reader = std::thread::Builder::new()
        .name("kernel-reader".into())
        .spawn(move || reader::run(parts))
        .map_err(DaemonError::Runtime)?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(DaemonError::Runtime)?;
    let socket_path = config.socket.clone();
    let served: Result<(), DaemonError> = runtime.block_on(async move {
        let listener =
            tokio::net::UnixListener::from_std(listener).map_err(|source| DaemonError::Socket {
                path: socket_path.clone(),
                source,
            })?;
        let metrics_task = match metrics_listener {
            Some(l) => {
                let l = tokio::net::TcpListener::from_std(l).map_err(DaemonError::Runtime)?;
                Some(tokio::spawn(crate::metrics_http::serve(
                    l,
                    Arc::clone(&metrics),
                    Arc::clone(&router),
                )))
            }
            None => None,
        };
        let Ok(tasks) = ready_rx.await else {
            return Ok(());
        };
        tracing::info!(socket = %socket_path.display(), tasks, "ready: serving subscribers");
        if let Err(e) = crate::notify::notify("READY=1\nSTATUS=serving subscribers") {
            tracing::warn!("sd_notify: {e}");
        }
        accept_loop(listener, shared, shutdown_rx).await;
        if let Some(t) = metrics_task {
            t.abort();
        }
        Ok(())
    });
    stop.store(true, Ordering::Relaxed);
    let reader_result = reader
        .join()
        .unwrap_or_else(|_| Err("the kernel reader panicked".into()));
    let _ = std::fs::remove_file(&config.socket);
    served?;
    reader_result.map_err(DaemonError::Reader)?;
    tracing::info!("stopped");
    Ok(())
}

/// Opens the kernel source, with taskstats listeners when `exit_stats`; a taskstats
/// listener that cannot open is not fatal: exits then go out without statistics.
fn open_source(
    mut config: SourceConfig,
    exit_stats: bool,
) -> Result<(LiveSource, Option<ExecTraceError>, bool), DaemonError> {
    if exit_stats {
        // The shard threads start now, before the capabilities are dropped on this thread:
        // they drop theirs themselves, keeping only what deregistering at stop needs.
        config.exit_stats = Some(ListenerConfig {
            thread_capabilities: Some(vec![CAP_NET_ADMIN]),
            ..ListenerConfig::default()
        });
        match LiveSource::open(&config) {
            Ok((source, exec_error)) => return Ok((source, exec_error, true)),
            Err(SourceError::Taskstats(e)) => {
                tracing::warn!("exit statistics are off: {e}");
                config.exit_stats = None;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let (source, exec_error) = LiveSource::open(&config)?;
    Ok((source, exec_error, false))
}

async fn accept_loop(
    listener: tokio::net::UnixListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<Option<String>>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                if shared.open.load(Ordering::Relaxed) >= shared.limits.max_connections {
                    shared.metrics.connection_refused();
                    connections.spawn(refuse(stream, shared.limits.max_connections));
                    continue;
                }
                shared.open.fetch_add(1, Ordering::Relaxed);
                shared.metrics.connection();
                connections.spawn(connection::serve(stream, Arc::clone(&shared), shutdown.clone()));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    let reason = shutdown.borrow().clone().unwrap_or_default();
    tracing::info!(
        clients = shared.open.load(Ordering::Relaxed),
        "{reason}: telling clients"
    );
    let _ = crate::notify::notify("STOPPING=1");
    let _ = tokio::time::timeout(GOODBYE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    connections.abort_all();
}

async fn refuse(mut stream: tokio::net::UnixStream, max: usize) {
    use tokio::io::AsyncWriteExt;
    let e = RequestError::new(
        ErrorCode::TooManyConnections,
        format!("the daemon serves at most {max} connections at once"),
    );
    let _ = stream.write_all(&error_line(&e)).await;
}
