//! `taskwatch watch`: resolves the flags, opens the live source, bootstraps the process
//! table and dispatches events to the watchers until a signal, the duration or the count.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use taskwatch_core::clock::WallClock;
use taskwatch_core::dispatch::DispatchStats;
use taskwatch_core::{Dispatcher, Kind};
use taskwatch_kernel::clock::{monotonic_ns, realtime_minus_monotonic_ns};
use taskwatch_kernel::connector::ConnectorConfig;
use taskwatch_kernel::probe::ProcProbe;
use taskwatch_kernel::source::{LiveSource, SourceConfig};
use taskwatch_wire::proc_event::what;

use crate::args::{ColorChoice, WatchArgs};
use crate::output::Output;
use crate::selection::Selection;
use crate::session::{self, Format, Session};
use crate::watchers::audit::AuditLog;
use crate::watchers::exits::ExitsPrinter;
use crate::watchers::recorder::LifetimeRecorder;
use crate::watchers::stats::{write_watcher_times, StatsTable};

/// Longest a printed event waits in our buffer when events trickle in.
const POLL: Duration = Duration::from_millis(100);

/// Kinds the process table needs to stay right (names, ancestry, bounded memory),
/// subscribed even when not shown.
const TABLE_KINDS: u32 = what::FORK | what::EXEC | what::EXIT | what::COMM;

/// `--duration SECS`, which must be positive and finite.
pub fn positive_duration(secs: Option<f64>) -> anyhow::Result<Option<Duration>> {
    match secs {
        Some(d) if !(d > 0.0 && d.is_finite()) => {
            bail!("--duration {d}: give a positive number of seconds")
        }
        Some(d) => Ok(Some(Duration::from_secs_f64(d))),
        None => Ok(None),
    }
}

/// `--color`: auto means a terminal without NO_COLOR.
pub fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    }
}

pub fn run(mut args: WatchArgs) -> anyhow::Result<()> {
    if let Some(socket) = args.connect.take() {
        return crate::watch_connect::run(args, socket);
    }
    let selection = Selection::new(
        &args.events,
        &args.tasks.pid,
        &args.tasks.comm,
        &args.tasks.uid,
        args.tasks.children,
    )?;
    let duration = positive_duration(args.duration)?;
    if !(0.0..=100.0).contains(&args.batch_wait) {
        bail!(
            "--batch-wait {}: choose 0 to 100 milliseconds",
            args.batch_wait
        );
    }
    let color = use_color(args.color);
    let format = match (args.quiet, args.json) {
        (true, _) => Format::Quiet,
        (false, true) => Format::Json,
        (false, false) => Format::Human { color },
    };

    let audit =
        match &args.audit {
            Some(path) => Some(crate::watchers::audit::AuditLog::open(path).with_context(
                || format!("--audit {}: cannot open for appending", path.display()),
            )?),
            None => None,
        };
    let mut source = source_config(&selection, &args);
    if audit.is_some() {
        // The audit log needs every exec with its path and argv, whatever is displayed.
        source.exec_paths = true;
        source.argv = !args.no_argv;
        if let Some(mask) = source.connector.event_filter.as_mut() {
            *mask |= what::EXEC;
        }
    }
    drive(Plan {
        selection,
        duration,
        count: args.count,
        format,
        stats: args.stats,
        audit,
        exits: None,
        recorder: None,
        on_tick: None,
        source,
    })
    .map(drop)
}

/// A run resolved from the flags: what to select, print and open.
pub struct Plan {
    pub selection: Selection,
    pub duration: Option<Duration>,
    pub count: Option<u64>,
    pub format: Format,
    pub stats: bool,
    pub audit: Option<AuditLog>,
    pub exits: Option<ExitsPrinter>,
    pub recorder: Option<LifetimeRecorder>,
    /// Called on the session after every read cycle (about every 100 ms at most).
    pub on_tick: Option<fn(&mut Session)>,
    pub source: SourceConfig,
}

/// What a finished run hands back: the recorder, to be shut down by its command.
pub struct Finished {
    pub recorder: Option<LifetimeRecorder>,
}

/// Opens the source, bootstraps the table and dispatches until a signal, the duration or
/// the count.
pub fn drive(plan: Plan) -> anyhow::Result<Finished> {
    let (mut source, exec_error) =
        LiveSource::open(&plan.source).context("cannot watch task events")?;
    if let Some(e) = exec_error {
        tracing::warn!(
            "exec paths will come from /proc and may be missing for short-lived processes: {e}"
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("installing signal handlers")?;
    }

    let local = time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC);
    session::install(Session {
        selection: plan.selection,
        format: plan.format,
        out: Output::stdout().context("opening standard output")?,
        clock: WallClock::new(realtime_minus_monotonic_ns(), local),
        remaining: plan.count,
        stats: plan.stats.then(StatsTable::default),
        audit: plan.audit,
        exits: plan.exits,
        recorder: plan.recorder,
        header_printed: false,
        write_error: None,
    });

    let mut dispatcher = Dispatcher::new(ProcProbe::new());
    dispatcher.bootstrap(monotonic_ns());
    tracing::info!(
        tasks = dispatcher.table().len(),
        rcvbuf = source.connector().rcvbuf_bytes(),
        kernel_filtered = source.connector().is_filtered(),
        "watching"
    );
    let deadline = plan.duration.map(|d| Instant::now() + d);
    let mut events = Vec::with_capacity(4096);
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
        source.read(timeout, &mut events)?;
        dispatch_all(&mut dispatcher, &mut events);
        flush()?;
        if let Some(tick) = plan.on_tick {
            session::with(tick);
        }
    }
    source.finish(&mut events);
    dispatch_all(&mut dispatcher, &mut events);
    flush()?;
    finish(&source, dispatcher.stats())
}

fn source_config(selection: &Selection, args: &WatchArgs) -> SourceConfig {
    let mut mask = TABLE_KINDS;
    for k in selection.kinds() {
        mask |= k.proc_event_bit().unwrap_or(0);
    }
    if selection.filters_uid() {
        mask |= what::UID | what::GID;
    }
    let wants_exec = selection.kinds().any(|k| k == Kind::Exec);
    SourceConfig {
        connector: ConnectorConfig {
            rcvbuf_bytes: args.rcvbuf,
            event_filter: (mask != what::ALL).then_some(mask),
            ..ConnectorConfig::default()
        },
        exec_paths: wants_exec,
        argv: wants_exec && !args.no_argv,
        batch_wait: Duration::from_secs_f64(args.batch_wait / 1000.0),
        ..SourceConfig::default()
    }
}

fn dispatch_all(dispatcher: &mut Dispatcher<ProcProbe>, events: &mut Vec<taskwatch_core::Event>) {
    for ev in events.drain(..) {
        dispatcher.dispatch(ev);
    }
}

fn flush() -> anyhow::Result<()> {
    session::with(|s| {
        if let Some(e) = s.write_error.take() {
            return Err(e);
        }
        if let Some(a) = s.audit.as_mut() {
            a.flush()?;
        }
        s.out.flush()
    })
    .unwrap_or(Ok(()))
    .context("writing to standard output")
}

fn finish(source: &LiveSource, dispatch: &DispatchStats) -> anyhow::Result<Finished> {
    for slow in dispatch.times.by_mean().into_iter().filter(|t| t.is_slow()) {
        tracing::warn!(
            watcher = slow.name,
            mean_ns = slow.mean_ns(),
            max_ns = slow.max_ns,
            "slow watcher: it delays every event behind it"
        );
    }
    let Some(mut s) = session::take() else {
        return Ok(Finished { recorder: None });
    };
    if let Some(table) = &s.stats {
        let mut text = Vec::new();
        table.write(&mut text)?;
        write_watcher_times(dispatch, &mut text)?;
        if s.format == Format::Json {
            std::io::stderr().write_all(&text)?;
        } else {
            s.out.buf.extend_from_slice(&text);
        }
    }
    s.out.flush().context("writing to standard output")?;
    if let Some(a) = s.audit.as_mut() {
        a.flush().context("writing the audit log")?;
    }
    if let Some(p) = &s.exits {
        if p.without_stats > 0 {
            tracing::warn!(
                "{} exits came without statistics (their taskstats record was lost or late)",
                p.without_stats
            );
        }
    }
    if let Some(x) = source.exit_stats() {
        let j = x.join_stats();
        tracing::info!(
            joined = j.joined,
            missing = j.missing,
            unclaimed = j.unclaimed,
            "exit statistics totals"
        );
    }
    let st = source.stats();
    tracing::info!(
        events = st.connector.events,
        lost = st.connector.lost,
        overruns = st.connector.overruns,
        exe_traced = st.exe_traced,
        exe_from_proc = st.exe_from_proc,
        exe_missing = st.exe_missing,
        "source totals"
    );
    Ok(Finished {
        recorder: s.recorder.take(),
    })
}
