//! `taskwatch`: watch the life of every task on Linux. This crate only wires the library
//! crates together and presents their results; every feature is a task watcher.
//!
//! It is a library too so that a binary can link extra watcher crates and still be
//! taskwatch: `use my_watchers as _; fn main() -> ExitCode { taskwatch::main() }`.

mod args;
mod bench;
mod daemon;
mod daemon_history;
mod exits;
mod exits_connect;
mod history;
mod isolate_check;
mod isolate_probe;
mod isolate_run;
mod isolate_units;
mod output;
mod record;
mod selection;
mod session;
mod stat;
mod watch;
mod watch_connect;
mod watchers;

use std::process::ExitCode;

use clap::Parser;

/// Parses the command line, runs the command, and turns an error into `error: ...` and
/// exit status 2.
pub fn main() -> ExitCode {
    let args = args::Cli::parse();
    // The daemon's progress (ready, clients told, stopped) belongs in the journal.
    let default_level = match args.command {
        args::Command::Daemon(_) => "info",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TASKWATCH_LOG")
                .unwrap_or_else(|_| default_level.into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .without_time()
        .init();
    let result = match args.command {
        args::Command::Watch(w) => watch::run(w).map(|()| 0),
        args::Command::Bench(args::BenchCommand::Dispatch(b)) => {
            bench::run_dispatch(&b).map(|()| 0)
        }
        args::Command::Bench(args::BenchCommand::Subscribers(b)) => {
            bench::subscribers::run(&bench::subscribers::SubscribersBench {
                socket: b.socket,
                subscribers: b.subscribers as usize,
                masks: b.masks,
                out: b.out,
            })
            .map(|()| 0)
        }
        args::Command::Exits(e) => exits::run(e).map(|()| 0),
        args::Command::Stat(a) => stat::run(&a).map(|()| 0),
        args::Command::Record(a) => record::run(a).map(|()| 0),
        args::Command::History(a) => history::run(a).map(|()| 0),
        args::Command::Isolate(args::IsolateCommand::Check(c)) => {
            isolate_check::run(&c, &mut std::io::stdout().lock())
        }
        args::Command::Daemon(d) => daemon::run(d).map(|()| 0),
        args::Command::Isolate(args::IsolateCommand::Run(r)) => isolate_run::run(&r),
        args::Command::Isolate(args::IsolateCommand::Probe(p)) => isolate_probe::run(&p),
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            output::stderr_line(format_args!("error: {e:#}"));
            ExitCode::from(2)
        }
    }
}
