//! `taskwatch exits`: the proc connector for the process table and the filters, taskstats
//! listener shards for the statistics, joined per exit and printed by the exits watcher.

use std::time::Duration;

use anyhow::Context;
use taskwatch_core::exit_record::ProcessTotals;
use taskwatch_kernel::connector::ConnectorConfig;
use taskwatch_kernel::delayacct::{self, DelayacctGuard};
use taskwatch_kernel::source::SourceConfig;
use taskwatch_kernel::taskstats::{CpuSelection, ListenerConfig};
use taskwatch_wire::proc_event::what;

use crate::args::ExitsArgs;
use crate::selection::Selection;
use crate::session::Format;
use crate::watch::{self, positive_duration, Plan};
use crate::watchers::exits::ExitsPrinter;

pub fn run(mut args: ExitsArgs) -> anyhow::Result<()> {
    if let Some(socket) = args.connect.take() {
        return crate::exits_connect::run(args, socket);
    }
    let selection = Selection::new(
        &["exit".to_string()],
        &args.tasks.pid,
        &args.tasks.comm,
        &args.tasks.uid,
        args.tasks.children,
    )?;
    let duration = positive_duration(args.duration)?;
    let cpus = match &args.cpus {
        Some(list) => CpuSelection::List(list.clone()),
        None => CpuSelection::Possible,
    };
    let _delayacct = delay_accounting(&args)?;
    let mut events = what::FORK | what::EXEC | what::EXIT | what::COMM;
    if selection.filters_uid() {
        events |= what::UID | what::GID;
    }
    let source = SourceConfig {
        connector: ConnectorConfig {
            event_filter: Some(events),
            ..ConnectorConfig::default()
        },
        exec_paths: false,
        argv: false,
        batch_wait: Duration::from_millis(1),
        exit_stats: Some(ListenerConfig {
            cpus,
            shards: args.shards.map(|n| n as usize),
            rcvbuf_bytes: args.rcvbuf,
            ..ListenerConfig::default()
        }),
        ..SourceConfig::default()
    };
    watch::drive(Plan {
        selection,
        duration,
        count: args.count,
        format: Format::Quiet,
        stats: false,
        audit: None,
        exits: Some(ExitsPrinter {
            json: args.json,
            threads: args.threads,
            delays: args.delays,
            totals: ProcessTotals::default(),
            without_stats: 0,
        }),
        recorder: None,
        on_tick: None,
        source,
    })
    .map(drop)
}

/// Turns delay accounting on for the run when asked; otherwise says once when it is off.
pub(crate) fn delay_accounting(args: &ExitsArgs) -> anyhow::Result<Option<DelayacctGuard>> {
    if args.enable_delayacct {
        let guard = DelayacctGuard::enable()
            .context("--enable-delayacct: cannot write /proc/sys/kernel/task_delayacct")?;
        return Ok(Some(guard));
    }
    if delayacct::enabled() == Some(false) {
        tracing::warn!(
            "kernel.task_delayacct is 0: every delay but cpu will read zero; \
             run with --enable-delayacct, or sysctl -w kernel.task_delayacct=1"
        );
    }
    Ok(None)
}
