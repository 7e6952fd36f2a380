//! `taskwatch daemon --record`: the lifetime recorder on the daemon's kernel reader thread,
//! so one reader feeds both the subscribers and the history database.

use std::path::PathBuf;

use anyhow::Context;
use taskwatch_core::clock::WallClock;
use taskwatch_kernel::clock::realtime_minus_monotonic_ns;
use taskwatch_server::config::RecordSettings;
use taskwatch_server::daemon::extension::{HistoryCounts, ReaderExtension};
use taskwatch_server::metrics::Metrics;
use taskwatch_store::{parse_duration_spec, Recorder, RecorderConfig, Retention};

use crate::output::Output;
use crate::selection::Selection;
use crate::session::{self, Format, Session};
use crate::watchers::recorder::{LifetimeRecorder, RecordCounts};

/// The recorder's settings until the reader thread starts it.
pub struct DaemonHistory {
    path: PathBuf,
    config: RecorderConfig,
    threads: bool,
}

impl DaemonHistory {
    /// Checks the settings (before the daemon opens anything).
    pub fn new(settings: &RecordSettings) -> anyhow::Result<Self> {
        let retention = Retention {
            max_age: match &settings.max_age {
                Some(spec) => Some(parse_duration_spec(spec).context("[record] max_age")?),
                None => None,
            },
            max_bytes: settings.max_size,
        };
        Ok(DaemonHistory {
            path: crate::record::db_path(&settings.db)?,
            config: RecorderConfig {
                retention,
                ..RecorderConfig::default()
            },
            threads: settings.threads,
        })
    }

    fn open(&self) -> anyhow::Result<Recorder> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the directory {}", dir.display()))?;
        }
        Recorder::start(&self.path, self.config.clone())
            .with_context(|| format!("cannot open the history database {}", self.path.display()))
    }
}

fn history_counts(counts: &RecordCounts, writer: &taskwatch_store::RecorderStats) -> HistoryCounts {
    HistoryCounts {
        processes: counts.processes,
        threads: counts.threads,
        committed: writer.committed,
        lost_writer_queue: writer.lost,
        lost_failed_commit: writer.failed,
        exits_missed: counts.exits_missed,
        without_stats: counts.without_stats,
    }
}

impl ReaderExtension for DaemonHistory {
    fn start(&mut self) -> Result<(), String> {
        // Opened here, on the reader thread after privilege was dropped, so the writer
        // thread starts without capabilities too.
        let writer = self.open().map_err(|e| format!("{e:#}"))?;
        let selection = Selection::new(&[], &[], &[], &[], false).map_err(|e| e.to_string())?;
        let out = Output::stdout().map_err(|e| format!("opening standard output: {e}"))?;
        session::install(Session {
            selection,
            format: Format::Quiet,
            out,
            clock: WallClock::new(realtime_minus_monotonic_ns(), time::UtcOffset::UTC),
            remaining: None,
            stats: None,
            audit: None,
            exits: None,
            recorder: Some(LifetimeRecorder::new(writer, self.threads)),
            header_printed: false,
            write_error: None,
        });
        tracing::info!(db = %self.path.display(), "recording task lifetimes");
        Ok(())
    }

    fn publish(&mut self, metrics: &Metrics) {
        let counts = session::with(|s| {
            s.recorder
                .as_ref()
                .map(|r| history_counts(&r.counts(), &r.writer().stats()))
        });
        if let Some(Some(counts)) = counts {
            metrics.set_history(counts);
        }
    }

    fn finish(&mut self, metrics: &Metrics) -> Result<(), String> {
        let Some(mut recorder) = session::take().and_then(|s| s.recorder) else {
            return Ok(());
        };
        recorder.finish();
        let counts = recorder.counts();
        let stats = recorder
            .shutdown()
            .map_err(|e| format!("committing the last lifetimes: {e}"))?;
        metrics.set_history(history_counts(&counts, &stats));
        tracing::info!("{}", crate::record::summary(&counts, &stats, &self.path));
        Ok(())
    }
}
