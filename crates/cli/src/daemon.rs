//! `taskwatch daemon`: the config file, overridden by flags, handed to the server crate
//! with the history recorder when asked; SIGTERM and SIGINT end it cleanly (exit 0).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{bail, Context};
use taskwatch_server::config::{DaemonConfig, RecordSettings};
use taskwatch_server::daemon::extension::ReaderExtension;

use crate::args::DaemonArgs;
use crate::daemon_history::DaemonHistory;

pub fn run(args: DaemonArgs) -> anyhow::Result<()> {
    let mut config = match &args.config {
        Some(path) => DaemonConfig::load(path)?,
        None => DaemonConfig::default(),
    };
    if let Some(socket) = args.socket {
        config.socket = socket;
    }
    if let Some(group) = args.group {
        config.group = Some(group);
    }
    if let Some(addr) = args.metrics {
        config.metrics = Some(addr);
    }
    if args.record && config.record.is_none() {
        config.record = Some(RecordSettings::default());
    }
    if let Some(db) = args.db {
        match config.record.as_mut() {
            Some(r) => r.db = Some(db),
            None => bail!("--db needs --record (or [record] in the config file)"),
        }
    }
    let extension = match &config.record {
        Some(settings) => Some(Box::new(DaemonHistory::new(settings)?) as Box<dyn ReaderExtension>),
        None => None,
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("installing signal handlers")?;
    }
    taskwatch_server::daemon::run(config, stop, extension).context("taskwatch daemon")
}
