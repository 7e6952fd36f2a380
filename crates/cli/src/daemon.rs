//! `taskwatch daemon`: the config file, overridden by flags, handed to the server crate;
//! SIGTERM and SIGINT end it cleanly (clients are told, exit status 0).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::Context;
use taskwatch_server::config::DaemonConfig;

use crate::args::DaemonArgs;

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
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("installing signal handlers")?;
    }
    taskwatch_server::daemon::run(config, stop).context("taskwatch daemon")
}
