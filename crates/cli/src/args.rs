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
    /// Give a latency-critical program an isolated CPU.
    #[command(subcommand)]
    Isolate(IsolateCommand),
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

/// Parses a byte size with an optional K/M/G suffix (powers of 1024), 4 KiB to 1 GiB.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let (digits, shift) = match t.as_bytes().last().map(|b| b.to_ascii_uppercase()) {
        Some(b'K') => (&t[..t.len() - 1], 10),
        Some(b'M') => (&t[..t.len() - 1], 20),
        Some(b'G') => (&t[..t.len() - 1], 30),
        _ => (t, 0),
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size like 512K or 64M"))?;
    let bytes = n
        .checked_shl(shift)
        .filter(|b| b >> shift == n)
        .ok_or_else(|| format!("{text:?} is too large"))?;
    if !(4096..=1 << 30).contains(&bytes) {
        return Err(format!("{text:?} is out of range: choose 4K to 1G"));
    }
    Ok(bytes)
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
    }
}
