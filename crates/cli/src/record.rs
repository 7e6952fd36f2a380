//! `taskwatch record`: the proc connector and taskstats shards feed the lifetime recorder
//! watcher, whose writer thread commits batches to the history database.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use taskwatch_kernel::connector::ConnectorConfig;
use taskwatch_kernel::source::SourceConfig;
use taskwatch_kernel::taskstats::ListenerConfig;
use taskwatch_store::{parse_duration_spec, Recorder, RecorderConfig, RecorderStats, Retention};
use taskwatch_wire::proc_event::what;

use crate::args::RecordArgs;
use crate::output::stderr_line;
use crate::selection::Selection;
use crate::session::{Format, Session};
use crate::watch::{self, positive_duration, Plan};
use crate::watchers::recorder::{LifetimeRecorder, RecordCounts};

/// The database path: `--db`, else the default location.
pub fn db_path(flag: &Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match flag {
        Some(path) => Ok(path.clone()),
        None => taskwatch_store::default_path().context("choosing the history database"),
    }
}

pub fn run(args: RecordArgs) -> anyhow::Result<()> {
    let duration = positive_duration(args.duration)?;
    let retention = Retention {
        max_age: match &args.max_age {
            Some(spec) => Some(parse_duration_spec(spec).context("--max-age")?),
            None => None,
        },
        max_bytes: args.max_size,
    };
    let path = db_path(&args.db)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    }
    let config = RecorderConfig {
        retention,
        ..RecorderConfig::default()
    };
    let writer = Recorder::start(&path, config)
        .with_context(|| format!("cannot open the history database {}", path.display()))?;
    stderr_line(format_args!(
        "recording process lifetimes to {}{}",
        path.display(),
        if duration.is_none() {
            "; Ctrl-C to stop"
        } else {
            ""
        }
    ));
    let source = SourceConfig {
        connector: ConnectorConfig {
            rcvbuf_bytes: args.rcvbuf,
            event_filter: Some(what::ALL & !what::COREDUMP),
            ..ConnectorConfig::default()
        },
        exec_paths: true,
        argv: true,
        batch_wait: Duration::from_millis(1),
        exit_stats: Some(ListenerConfig::default()),
        ..SourceConfig::default()
    };
    let finished = watch::drive(Plan {
        selection: Selection::new(&[], &[], &[], &[], false)?,
        duration,
        count: None,
        format: Format::Quiet,
        stats: false,
        audit: None,
        exits: None,
        recorder: Some(LifetimeRecorder::new(writer, args.threads)),
        on_tick: std::io::stderr()
            .is_terminal()
            .then_some(show_progress as fn(&mut Session)),
        source,
    })?;
    let Some(mut recorder) = finished.recorder else {
        return Ok(());
    };
    recorder.finish();
    let counts = recorder.counts();
    let stats = recorder
        .shutdown()
        .context("committing the last lifetimes")?;
    clear_progress();
    stderr_line(format_args!("{}", summary(&counts, &stats, &path)));
    if counts.kernel_lost > 0 || stats.lost > 0 || stats.failed > 0 {
        tracing::warn!(
            kernel_lost = counts.kernel_lost,
            queue_lost = stats.lost,
            failed = stats.failed,
            "the history has gaps"
        );
    }
    Ok(())
}

/// One line: what was recorded, what is on disk, and every loss.
pub(crate) fn summary(
    counts: &RecordCounts,
    stats: &RecorderStats,
    path: &std::path::Path,
) -> String {
    let mut line = format!(
        "recorded {} processes ({} without statistics)",
        counts.processes, counts.without_stats
    );
    if counts.threads > 0 {
        line += &format!(" and {} threads", counts.threads);
    }
    line += &format!(
        "; {} lifetimes committed to {}",
        stats.committed,
        path.display()
    );
    if stats.duplicates > 0 {
        line += &format!(" ({} already there)", stats.duplicates);
    }
    line += &format!(
        "; lost: {} kernel events, {} lifetimes (writer queue full), {} in failed commits",
        counts.kernel_lost, stats.lost, stats.failed
    );
    if counts.exits_missed > 0 {
        line += &format!(", {} exits missed", counts.exits_missed);
    }
    if counts.changes_dropped > 0 {
        line += &format!(", {} changes over the cap", counts.changes_dropped);
    }
    if stats.retention_deleted > 0 {
        line += &format!(
            "; retention deleted {} old lifetimes",
            stats.retention_deleted
        );
    }
    line
}

thread_local! {
    static LAST_PROGRESS: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// On a terminal, a status line refreshed every second.
fn show_progress(s: &mut Session) {
    let now = Instant::now();
    let due = LAST_PROGRESS.with(|last| match last.get() {
        Some(t) if now.duration_since(t) < Duration::from_secs(1) => false,
        _ => {
            last.set(Some(now));
            true
        }
    });
    let Some(r) = s.recorder.as_ref().filter(|_| due) else {
        return;
    };
    let (c, w) = (r.counts(), r.writer().stats());
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "\r\x1b[K{} processes, {} threads, {} committed, lost {} kernel / {} queue",
        c.processes, c.threads, w.committed, c.kernel_lost, w.lost
    );
    let _ = err.flush();
}

fn clear_progress() {
    if std::io::stderr().is_terminal() {
        let _ = write!(std::io::stderr(), "\r\x1b[K");
    }
}
