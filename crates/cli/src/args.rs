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
    /// Measure taskwatch's own costs on this machine (figures for BENCHMARKS.md).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Print every exiting process with the kernel's statistics (taskstats): CPU time,
    /// memory peak, I/O, context switches and, with -d, every delay class.
    Exits(ExitsArgs),
    /// Print a running task's statistics now (a live taskstats query).
    Stat(StatArgs),
    /// Record every process lifetime (fork to exit: exe, argv, exit status, changes and the
    /// kernel's statistics) in the history database, until Ctrl-C or SIGTERM.
    Record(RecordArgs),
    /// Ask the history database what ran: filters, a process tree, top N, JSON or SQL.
    History(HistoryArgs),
    /// Give a latency-critical program an isolated CPU.
    #[command(subcommand)]
    Isolate(IsolateCommand),
    /// Serve task events to many subscribers from one kernel reader, routed by CPU
    /// (protocol: crates/server/PROTOCOL.md).
    Daemon(DaemonArgs),
}

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Listening socket [default: /run/taskwatch/taskwatch.sock, or the config's].
    #[arg(long, value_name = "PATH")]
    pub socket: Option<std::path::PathBuf>,
    /// Group owning the socket (name or number); members may subscribe (mode 0660).
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// TOML settings: limits, access grants, source (see crates/server/PROTOCOL.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Serve Prometheus metrics on this loopback address (e.g. 127.0.0.1:9464).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,
    /// Also record every task lifetime to the history database, from the same kernel
    /// reader (`taskwatch record`'s recorder; config: `[record]`).
    #[arg(long)]
    pub record: bool,
    /// With --record (or `[record]` in the config): the history database.
    #[arg(long, value_name = "PATH", help = db_help())]
    pub db: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum IsolateCommand {
    /// Whether a CPU is fit for a latency-critical program: one line per check with
    /// pass/warn/fail and the fix. Exit status 0 when suitable, 1 when not.
    Check(crate::isolate_check::CheckArgs),
    /// Run a program pinned to one CPU, attribute every interruption of that CPU, answer
    /// its prctl(PR_SET_TASK_ISOLATION) and enforce strict mode. Refuses (exit 2) an
    /// unsuitable CPU unless --allow-unisolated; otherwise exits with the program's status.
    Run(crate::isolate_run::RunArgs),
    /// Spin on a CPU reading the clock (like oslat) and attribute every gap over the
    /// threshold to the interruptions traced in it; histogram, percentiles, optional SVG.
    Probe(crate::isolate_probe::ProbeArgs),
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Cost per event of calling 0, 1, 8 and 64 watchers: the static tables, the dynamic
    /// set and a Mutex<Vec<Box<dyn Fn>>> chain, with allocations per event.
    Dispatch(BenchDispatchArgs),
    /// The subscriber side of bench/daemon_storm.py: N connections to a daemon, each read
    /// by its own thread that stamps receipt times (driven over stdin/stdout).
    Subscribers(BenchSubscribersArgs),
}

#[derive(Debug, Args)]
pub struct BenchSubscribersArgs {
    /// The daemon's socket.
    #[arg(long, value_name = "PATH")]
    pub socket: std::path::PathBuf,
    /// Connections.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub subscribers: u64,
    /// Their cpulists, in turn.
    #[arg(long, value_delimiter = ',', default_value = "0-1,0,1")]
    pub masks: Vec<String>,
    /// Where each subscriber's lines are written (sub-N.lines: RECEIPT_NS LINE).
    #[arg(long, value_name = "DIR")]
    pub out: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct BenchDispatchArgs {
    /// One JSON object per configuration.
    #[arg(long)]
    pub json: bool,
    /// Events per timed run (long chains get proportionally fewer).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub events: u64,
    /// Timed runs per configuration; the median is reported.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub runs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Which tasks to show, shared by `watch` and `exits`.
#[derive(Debug, Args)]
pub struct TaskFilter {
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
    #[command(flatten)]
    pub tasks: TaskFilter,
    /// Stop after this many seconds.
    #[arg(short, long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Stop after printing this many events.
    #[arg(short = 'n', long, value_name = "N")]
    pub count: Option<u64>,
    /// At the end, print a per-command table of event counts by kind (like forkstat -S).
    #[arg(short = 'S', long)]
    pub stats: bool,
    /// Append one JSON line per exec (uid, exe, argv, parent chain) to FILE, whatever the
    /// display filters select.
    #[arg(long, value_name = "FILE")]
    pub audit: Option<std::path::PathBuf>,
    /// Print nothing per event (with --stats: only the table).
    #[arg(short, long)]
    pub quiet: bool,
    /// Colour: auto (only on a terminal, honouring NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Receive buffer of the proc connector socket (e.g. 512K, 64M; 4K to 1G).
    #[arg(long, default_value = "64M", value_name = "SIZE", value_parser = parse_size)]
    pub rcvbuf: usize,
    /// After a wake-up that found events, wait this many milliseconds for more before
    /// reading again: fewer wake-ups under load, at most this much added latency (0-100).
    #[arg(long, default_value_t = 1.0, value_name = "MS")]
    pub batch_wait: f64,
    /// Do not read /proc/PID/cmdline at exec (argv is then null).
    #[arg(long)]
    pub no_argv: bool,
    /// Subscribe to a running `taskwatch daemon` instead of reading the kernel
    /// [default socket: /run/taskwatch/taskwatch.sock].
    #[arg(long, value_name = "SOCKET", num_args = 0..=1,
          default_missing_value = "/run/taskwatch/taskwatch.sock")]
    pub connect: Option<std::path::PathBuf>,
    /// With --connect: only events that happened on these CPUs (a cpulist such as 0-3,8);
    /// default: all.
    #[arg(long, value_name = "LIST", requires = "connect")]
    pub cpus: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExitsArgs {
    /// One JSON object per line (schema in crates/core/src/exit_json.rs).
    #[arg(long)]
    pub json: bool,
    /// A line per exiting thread, not per process.
    #[arg(long)]
    pub threads: bool,
    /// Add every delay class: count, total, average, max and min.
    #[arg(short, long)]
    pub delays: bool,
    /// Listen to these CPUs only (a cpulist such as 0-3,8); default: all.
    #[arg(long, value_name = "LIST")]
    pub cpus: Option<String>,
    /// Listener shards (sockets, each with its own thread); default one per CPU, at most 64.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub shards: Option<u32>,
    #[command(flatten)]
    pub tasks: TaskFilter,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Stop after printing this many lines.
    #[arg(short = 'n', long, value_name = "N")]
    pub count: Option<u64>,
    /// Turn on kernel.task_delayacct for the run (restored at exit), so delays are measured.
    #[arg(long)]
    pub enable_delayacct: bool,
    /// Colour: auto (only on a terminal, honouring NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Receive buffer of each taskstats shard socket (e.g. 512K, 64M; 4K to 1G).
    #[arg(long, default_value = "32M", value_name = "SIZE", value_parser = parse_size)]
    pub rcvbuf: usize,
    /// Receive the exits and their statistics from a running `taskwatch daemon` instead of
    /// listening to taskstats here [default socket: /run/taskwatch/taskwatch.sock];
    /// --cpus then selects the CPUs the daemon routes from.
    #[arg(long, value_name = "SOCKET", num_args = 0..=1,
          default_missing_value = "/run/taskwatch/taskwatch.sock")]
    pub connect: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct StatArgs {
    /// The task (thread id) to query.
    pub pid: u32,
    /// Query the whole process (thread group) PID leads.
    #[arg(long)]
    pub tgid: bool,
    /// One JSON object (schema of `exits --json`).
    #[arg(long)]
    pub json: bool,
    /// Add every delay class.
    #[arg(short, long)]
    pub delays: bool,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The history database (created if missing; a restart continues it).
    #[arg(long, value_name = "PATH", help = db_help())]
    pub db: Option<std::path::PathBuf>,
    /// Also record a lifetime per thread, not only per process.
    #[arg(long)]
    pub threads: bool,
    /// Delete lifetimes that ended longer ago than this (e.g. 30d, 12h), as it goes.
    #[arg(long, value_name = "AGE")]
    pub max_age: Option<String>,
    /// Keep the database under this size (e.g. 512M, 4G), deleting the oldest first.
    #[arg(long, value_name = "SIZE", value_parser = parse_disk_size)]
    pub max_size: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Receive buffer of the proc connector socket (e.g. 512K, 64M; 4K to 1G).
    #[arg(long, default_value = "64M", value_name = "SIZE", value_parser = parse_size)]
    pub rcvbuf: usize,
}

/// `--db`'s help: where the database is when not given.
fn db_help() -> String {
    format!(
        "The history database [default: {}]",
        taskwatch_store::location::DEFAULT_PATH_HELP
    )
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The history database to read.
    #[arg(long, value_name = "PATH", help = db_help())]
    pub db: Option<std::path::PathBuf>,
    /// Only lifetimes that ended at or after this: 10m, 1h, 2d ago, or a time such as
    /// "2026-11-21 03:12" (local) or 2026-11-21T03:12:00Z.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only lifetimes that started at or before this (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Only this command name (exact).
    #[arg(long, value_name = "NAME")]
    pub comm: Option<String>,
    /// Only this executable (exact path).
    #[arg(long, value_name = "PATH")]
    pub exe: Option<String>,
    /// Only this real uid at start or end (number or user name).
    #[arg(short, long, value_name = "UID")]
    pub uid: Option<String>,
    /// Only lifetimes of this pid (pids are reused: every lifetime that had it).
    #[arg(short, long, value_name = "PID")]
    pub pid: Option<u32>,
    /// Only lifetimes that exited non-zero or were killed by a signal.
    #[arg(long)]
    pub failed: bool,
    /// Only this pid's lifetimes and their descendants.
    #[arg(long, value_name = "PID")]
    pub tree: Option<u32>,
    /// The N largest by cpu, rss, io or lifetime, e.g. --top cpu 10.
    #[arg(long, num_args = 2, value_names = ["KEY", "N"])]
    pub top: Vec<String>,
    /// At most this many lifetimes (the most recent).
    #[arg(short = 'n', long, value_name = "N")]
    pub limit: Option<usize>,
    /// One JSON object per lifetime, per line.
    #[arg(long)]
    pub json: bool,
    /// Also list each lifetime's uid/gid/sid/ptrace/comm changes.
    #[arg(long)]
    pub changes: bool,
    /// Run one read-only SQL statement (schema: crates/store/SCHEMA.md) and print its rows.
    #[arg(long, value_name = "SELECT", conflicts_with_all = [
        "since", "until", "comm", "exe", "uid", "pid", "failed", "tree", "top", "limit", "changes"
    ])]
    pub sql: Option<String>,
}

/// Parses a byte size with an optional K/M/G suffix (powers of 1024), 4 KiB to 1 GiB.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let bytes = parse_bytes(text)?;
    if !(4096..=1 << 30).contains(&bytes) {
        return Err(format!("{text:?} is out of range: choose 4K to 1G"));
    }
    Ok(bytes as usize)
}

/// A database size limit: 1 MiB to 16 TiB.
pub fn parse_disk_size(text: &str) -> Result<u64, String> {
    let bytes = parse_bytes(text)?;
    if !(1 << 20..=1 << 44).contains(&bytes) {
        return Err(format!("{text:?} is out of range: choose 1M to 16T"));
    }
    Ok(bytes)
}

/// A byte count with an optional K/M/G/T suffix (powers of 1024).
fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, shift) = match t.as_bytes().last().map(|b| b.to_ascii_uppercase()) {
        Some(b'K') => (&t[..t.len() - 1], 10),
        Some(b'M') => (&t[..t.len() - 1], 20),
        Some(b'G') => (&t[..t.len() - 1], 30),
        Some(b'T') => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size like 512K or 64M"))?;
    n.checked_shl(shift)
        .filter(|b| b >> shift == n)
        .ok_or_else(|| format!("{text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("8192"), Ok(8192));
        assert!(parse_size("1K").is_err());
        assert!(parse_size("2G").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
        assert_eq!(parse_disk_size("4G"), Ok(4 << 30));
        assert!(parse_disk_size("1T").is_ok());
        assert!(parse_disk_size("64K").is_err());
    }
}
