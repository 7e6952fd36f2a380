//! `taskwatch exits --connect`: the same lines as direct mode, from a running daemon that
//! puts each exit's taskstats records on the event; the exits printer does the rest.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use taskwatch_core::clock::WallClock;
use taskwatch_core::exit_record::ProcessTotals;
use taskwatch_core::{Ctx, ProcessTable};
use taskwatch_kernel::clock::realtime_minus_monotonic_ns;
use taskwatch_server::client::{Gap, Received};
use taskwatch_server::protocol::RegisterRequest;

use crate::args::ExitsArgs;
use crate::output::Output;
use crate::selection::{resolve_uid, Selection};
use crate::session::{self, Format, Session};
use crate::watch::positive_duration;
use crate::watch_connect::{checked_cpus, receive, stop_on_signals, subscribe};
use crate::watchers::exits::{print_exit, ExitsPrinter};

pub fn run(args: ExitsArgs, socket: PathBuf) -> anyhow::Result<()> {
    if args.shards.is_some() {
        bail!("--shards sets up local taskstats listeners: not available with --connect");
    }
    let cpus = checked_cpus(&args.cpus)?;
    // Checks every flag as direct mode would; the daemon applies the task filters.
    Selection::new(
        &["exit".to_string()],
        &args.tasks.pid,
        &args.tasks.comm,
        &args.tasks.uid,
        args.tasks.children,
    )?;
    let display = Selection::new(&["exit".to_string()], &[], &[], &[], false)?;
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let uids = args
        .tasks
        .uid
        .iter()
        .map(|u| resolve_uid(u, &passwd))
        .collect::<anyhow::Result<Vec<u32>>>()?;
    let registration = RegisterRequest {
        cpus,
        events: vec!["exit".into()],
        pids: args.tasks.pid.clone(),
        children: args.tasks.children,
        uids,
        comms: args.tasks.comm.clone(),
        exit_stats: true,
    };
    let duration = positive_duration(args.duration)?;
    let _delayacct = crate::exits::delay_accounting(&args)?;
    let stop = stop_on_signals()?;
    let mut client = subscribe(&socket, registration, "watching exits through the daemon")?;
    let local = time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC);
    let json = args.json;
    session::install(Session {
        selection: display,
        format: Format::Quiet,
        out: Output::stdout().context("opening standard output")?,
        clock: WallClock::new(realtime_minus_monotonic_ns(), local),
        remaining: args.count,
        stats: None,
        audit: None,
        exits: Some(ExitsPrinter {
            json,
            threads: args.threads,
            delays: args.delays,
            totals: ProcessTotals::default(),
            without_stats: 0,
        }),
        recorder: None,
        header_printed: false,
        write_error: None,
    });
    let table = ProcessTable::new();
    receive(&mut client, &stop, duration, |received| match received {
        Received::Event(e) => {
            let task = e.task();
            print_exit(&Ctx {
                event: &e.event,
                task: &task,
                table: &table,
            });
        }
        Received::Gap(g) => print_gap(&g, json),
    })?;
    let without = session::with(|s| s.exits.as_ref().map_or(0, |p| p.without_stats));
    if let Some(n) = without.filter(|&n| n > 0) {
        tracing::warn!(
            "{n} exits came without statistics (the daemon's taskstats record was lost or late)"
        );
    }
    Ok(())
}

/// A gap in the exits' own formats: a JSON line like a loss's, or a sentence.
fn print_gap(g: &Gap, json: bool) {
    session::with(|s| {
        if json {
            g.write_json(&mut s.out.buf, &mut s.clock);
        } else {
            let what = if g.restarted {
                "the daemon restarted"
            } else {
                "reconnected to the daemon"
            };
            let _ = write!(s.out.buf, "gap: {what} ({}): exits ", g.reason);
            match g.since_ts_ns {
                Some(ts) => {
                    s.out.buf.extend_from_slice(b"after ");
                    s.clock.write_local_time(&mut s.out.buf, ts);
                }
                None => s.out.buf.extend_from_slice(b"before"),
            }
            s.out.buf.extend_from_slice(b" up to now may be missing\n");
        }
    });
}
