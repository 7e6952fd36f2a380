//! `taskwatch watch --connect`: the same output as direct mode, from a running daemon.
//! Filters are resolved here and applied by the daemon; a lost connection is retried
//! and reported as a `gap` line before the events that follow it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use taskwatch_core::clock::WallClock;
use taskwatch_core::{Ctx, ProcessTable};
use taskwatch_kernel::clock::realtime_minus_monotonic_ns;
use taskwatch_server::client::{Client, ClientConfig, Gap, Received, RemoteEvent};
use taskwatch_server::machine::Machine;
use taskwatch_server::protocol::RegisterRequest;

use crate::args::WatchArgs;
use crate::output::Output;
use crate::selection::{resolve_uid, Selection};
use crate::session::{self, Format, Session};
use crate::watch::{positive_duration, use_color};

/// How often the stop conditions are looked at while no event comes.
const POLL: Duration = Duration::from_millis(100);
/// Retry interval while the daemon is away.
pub(crate) const RECONNECT: Duration = Duration::from_millis(200);

/// Connects to the daemon at `socket` with one registration (reconnecting after a
/// restart) and logs what the daemon said, as `started`.
pub fn subscribe(
    socket: &std::path::Path,
    registration: RegisterRequest,
    started: &'static str,
) -> anyhow::Result<Client> {
    let client = Client::connect(ClientConfig {
        socket: socket.to_owned(),
        registrations: vec![registration],
        reconnect: Some(RECONNECT),
    })
    .with_context(|| format!("subscribing to the daemon at {}", socket.display()))?;
    tracing::info!(
        server = client.hello().server,
        sees = client.hello().sees,
        "{started}"
    );
    Ok(client)
}

/// `--cpus`, checked as strictly as the kernel checks a taskstats cpulist (default:
/// every possible CPU).
pub fn checked_cpus(flag: &Option<String>) -> anyhow::Result<String> {
    let machine = Machine::read().context("reading this machine's CPUs")?;
    let cpus = match flag {
        Some(list) => list.clone(),
        None => machine.possible.to_string(),
    };
    machine
        .check_cpulist(&cpus)
        .map_err(|e| anyhow!("--cpus {cpus:?}: {e}"))?;
    Ok(cpus)
}

pub fn run(args: WatchArgs, socket: PathBuf) -> anyhow::Result<()> {
    if args.stats || args.audit.is_some() {
        bail!("--stats and --audit need the process table: they are not available with --connect");
    }
    let cpus = checked_cpus(&args.cpus)?;
    // Checks every flag as direct mode would; the daemon applies the task filters.
    Selection::new(
        &args.events,
        &args.tasks.pid,
        &args.tasks.comm,
        &args.tasks.uid,
        args.tasks.children,
    )?;
    let display = Selection::new(&args.events, &[], &[], &[], false)?;
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let uids = args
        .tasks
        .uid
        .iter()
        .map(|u| resolve_uid(u, &passwd))
        .collect::<anyhow::Result<Vec<u32>>>()?;
    let registration = RegisterRequest {
        cpus,
        events: display.kinds().map(|k| k.name().to_owned()).collect(),
        pids: args.tasks.pid.clone(),
        children: args.tasks.children,
        uids,
        comms: args.tasks.comm.clone(),
        exit_stats: false,
    };
    let duration = positive_duration(args.duration)?;
    let format = match (args.quiet, args.json) {
        (true, _) => Format::Quiet,
        (false, true) => Format::Json,
        (false, false) => Format::Human {
            color: use_color(args.color),
        },
    };
    let stop = stop_on_signals()?;
    let mut client = subscribe(&socket, registration, "watching through the daemon")?;
    let local = time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC);
    session::install(Session {
        selection: display,
        format,
        out: Output::stdout().context("opening standard output")?,
        clock: WallClock::new(realtime_minus_monotonic_ns(), local),
        remaining: args.count,
        stats: None,
        audit: None,
        exits: None,
        recorder: None,
        header_printed: false,
        write_error: None,
    });
    let table = ProcessTable::new();
    receive(&mut client, &stop, duration, |received| match received {
        Received::Event(e) => print_event(&e, &table),
        Received::Gap(g) => print_gap(&g),
    })
}

/// Hands every event to `on` until the count is reached, `duration` passes or a signal
/// comes, flushing the session's output as it goes.
pub(crate) fn receive(
    client: &mut Client,
    stop: &AtomicBool,
    duration: Option<Duration>,
    mut on: impl FnMut(Received),
) -> anyhow::Result<()> {
    let deadline = duration.map(|d| Instant::now() + d);
    loop {
        if stop.load(Ordering::Relaxed) || session::with(|s| s.done()).unwrap_or(true) {
            break;
        }
        let timeout = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) => left.min(POLL),
                None => break,
            },
            None => POLL,
        };
        if let Some(received) = client.next(timeout)? {
            on(received);
        }
        flush()?;
    }
    flush()?;
    Ok(())
}

/// A flag set by SIGINT or SIGTERM.
pub(crate) fn stop_on_signals() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("installing signal handlers")?;
    }
    Ok(stop)
}

fn print_event(e: &RemoteEvent, table: &ProcessTable) {
    let json = session::with(|s| {
        if s.format == Format::Json && !s.done() {
            // The daemon rendered the line with the same writer as direct mode.
            s.out.buf.extend_from_slice(e.line.as_bytes());
            s.out.buf.push(b'\n');
            s.count_printed();
        }
        s.format == Format::Json
    });
    if json == Some(false) {
        let task = e.task();
        let ctx = Ctx {
            event: &e.event,
            task: &task,
            table,
        };
        crate::watchers::human::print_human(&ctx);
    }
}

fn print_gap(g: &Gap) {
    session::with(|s| match s.format {
        Format::Json => g.write_json(&mut s.out.buf, &mut s.clock),
        Format::Human { .. } => {
            s.clock.write_local_time(&mut s.out.buf, g.resumed_ts_ns);
            let what = if g.restarted {
                "daemon restarted"
            } else {
                "reconnected"
            };
            s.out.buf.extend_from_slice(
                format!(
                    " gap             - -                {what} ({}): events ",
                    g.reason
                )
                .as_bytes(),
            );
            match g.since_ts_ns {
                Some(ts) => {
                    s.out.buf.extend_from_slice(b"after ");
                    s.clock.write_local_time(&mut s.out.buf, ts);
                }
                None => s.out.buf.extend_from_slice(b"before"),
            }
            s.out.buf.extend_from_slice(b" up to now may be missing\n");
        }
        Format::Quiet => {}
    });
}

fn flush() -> anyhow::Result<()> {
    session::with(|s| {
        if let Some(e) = s.write_error.take() {
            return Err(e);
        }
        s.out.flush()
    })
    .unwrap_or(Ok(()))
    .context("writing to standard output")
}
