//! Command-line arguments as the user typed them (first stage); `watch` resolves them into
//! settings (second stage), where every bad value gets a clear error.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Watch the life of every task on Linux.
#[derive(Debug, Parser)]
#[command(name = "taskwatch", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print task lifecycle events as they happen (fork, exec, uid, gid, sid, ptrace,
    /// comm, coredump, exit), with nothing lost and every loss reported.
    Watch(WatchArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// One JSON object per line (schema in crates/core/src/json.rs).
    #[arg(long)]
    pub json: bool,
    /// Event kinds to show, comma-separated: fork, exec, uid, gid, sid, ptrace, comm,
    /// coredump, exit (default: all). Kinds nothing needs are filtered in the kernel.
    #[arg(short = 'e', long, value_delimiter = ',', value_name = "KINDS")]
    pub events: Vec<String>,
    /// Only these processes (comma-separated pids).
    #[arg(short, long, value_delimiter = ',', value_name = "PIDS")]
    pub pid: Vec<u32>,
    /// Only tasks with this comm (exact, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub comm: Vec<String>,
    /// Only tasks with this real or effective uid (number or user name, comma-separated).
    #[arg(short, long, value_delimiter = ',', value_name = "UIDS")]
    pub uid: Vec<String>,
    /// With --pid/--comm/--uid: also show every descendant of a matching task.
    #[arg(long)]
    pub children: bool,
    /// Stop after this many seconds.
    #[arg(short, long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Stop after printing this many events.
    #[arg(short = 'n', long, value_name = "N")]
    pub count: Option<u64>,
    /// At the end, print a per-command table of event counts by kind (like forkstat -S).
    #[arg(short = 'S', long)]
    pub stats: bool,
    /// Print nothing per event (with --stats: only the table).
    #[arg(short, long)]
    pub quiet: bool,
    /// Colour: auto (only on a terminal, honouring NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Receive buffer of the proc connector socket, in MiB.
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    pub rcvbuf_mib: usize,
    /// Do not read /proc/PID/cmdline at exec (argv is then null).
    #[arg(long)]
    pub no_argv: bool,
}
