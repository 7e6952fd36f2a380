//! The store's benchmark: ingest rate in batches, bytes per lifetime on disk, and the
//! documented queries over 1,000,000 rows, printed as JSON lines.
//!
//! `cargo run --release -p taskwatch-store --example store_bench [-- ROWS]`
//!
//! Two databases of the realistic mix: lifetimes spread over 24 hours (an ordinary day, so
//! `--since 1h` selects 1/24 of them) and all within the last hour (a storm: `--since 1h`
//! selects every row). Then ingest alone for an adversarial mix (2,000 parents and 100 uids
//! at random: an index page per key per batch), and through the `Recorder`.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use taskwatch_store::{
    Change, ChangeKind, ChangeValue, Delay, Lifetime, Query, Recorder, RecorderConfig, Retention,
    Store, TaskStats, TopKey,
};

const BATCH_ROWS: usize = 1_000;
const QUERY_RUNS: usize = 9;
const NS_PER_SEC: i64 = 1_000_000_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 1_000_000,
    };
    print_load("start");
    let dir = tempfile::tempdir()?;
    let now_ns = now_ns();
    let hour = 3_600 * NS_PER_SEC;
    for (scenario, span_ns) in [("day", 24 * hour), ("storm", hour)] {
        let path = dir.path().join(format!("{scenario}.db"));
        let mut store = Store::open(&path)?;
        let workload = Workload::new(Mix::Realistic, now_ns, span_ns, rows);
        let written = ingest(&mut store, workload, scenario, BATCH_ROWS)?;
        store.checkpoint()?;
        let size = store.size()?;
        print_line(json!({
            "metric": "bytes_per_lifetime", "scenario": scenario, "rows": written,
            "file_bytes": size.file_bytes,
            "bytes_per_lifetime": round(size.file_bytes as f64 / written as f64, 1),
        }));
        let since_1h = now_ns - 3_600 * NS_PER_SEC;
        let queries = documented_queries(since_1h);
        for label in ["before ANALYZE", "after PRAGMA optimize"] {
            if label != "before ANALYZE" {
                let started = Instant::now();
                store.optimize()?;
                print_line(json!({
                    "metric": "optimize", "scenario": scenario,
                    "seconds": round(started.elapsed().as_secs_f64(), 3),
                }));
            }
            for (name, query) in &queries {
                time_query(&store, scenario, label, name, query)?;
            }
        }
        if scenario == "day" {
            retention(&mut store, now_ns)?;
        }
        drop(store);
        std::fs::remove_file(&path)?;
    }
    for (mix, scenario, batch_rows) in [
        (Mix::Realistic, "storm", 10 * BATCH_ROWS),
        (Mix::Adversarial, "adversarial", BATCH_ROWS),
        (Mix::Adversarial, "adversarial", 10 * BATCH_ROWS),
    ] {
        let path = dir.path().join("ingest.db");
        let mut store = Store::open(&path)?;
        ingest(
            &mut store,
            Workload::new(mix, now_ns, hour, rows),
            scenario,
            batch_rows,
        )?;
        drop(store);
        std::fs::remove_file(&path)?;
    }
    for batch_rows in [BATCH_ROWS, 10 * BATCH_ROWS] {
        recorder_ingest(dir.path(), now_ns, rows.min(500_000), batch_rows)?;
    }
    print_load("end");
    Ok(())
}

/// Writes the workload in batches; only `insert_batch` is timed, not making the rows.
fn ingest(
    store: &mut Store,
    mut workload: Workload,
    scenario: &str,
    batch_rows: usize,
) -> Result<u64, Box<dyn std::error::Error>> {
    let mut inserting = Duration::ZERO;
    let mut written = 0;
    let mut batch = Vec::with_capacity(batch_rows);
    loop {
        batch.clear();
        batch.extend(std::iter::from_fn(|| workload.next()).take(batch_rows));
        if batch.is_empty() {
            break;
        }
        let started = Instant::now();
        written += store.insert_batch(&batch)?.inserted;
        inserting += started.elapsed();
    }
    let seconds = inserting.as_secs_f64();
    print_line(json!({
        "metric": "ingest", "path": "Store::insert_batch", "scenario": scenario,
        "rows": written, "batch_rows": batch_rows, "seconds": round(seconds, 3),
        "lifetimes_per_s": (written as f64 / seconds).round(),
    }));
    Ok(written)
}

/// Half a day of the day's history dropped by age, then the file cut to 100 MB by size:
/// rows deleted, time taken, and the file before and after (after a checkpoint).
fn retention(store: &mut Store, now_ns: i64) -> Result<(), Box<dyn std::error::Error>> {
    let by_age = Retention {
        max_age: Some(Duration::from_secs(12 * 3_600)),
        max_bytes: None,
    };
    let by_size = Retention {
        max_age: None,
        max_bytes: Some(100 << 20),
    };
    for (name, policy) in [("max_age 12h", by_age), ("max_bytes 100 MiB", by_size)] {
        let before = store.size()?.file_bytes;
        let started = Instant::now();
        let outcome = store.enforce_retention(&policy, now_ns, u64::MAX)?;
        let seconds = started.elapsed().as_secs_f64();
        store.checkpoint()?;
        let after = store.size()?;
        print_line(json!({
            "metric": "retention", "policy": name, "deleted": outcome.deleted,
            "seconds": round(seconds, 3),
            "deleted_per_s": (outcome.deleted as f64 / seconds).round(),
            "vacuumed_pages": outcome.vacuumed_pages, "file_bytes_before": before,
            "file_bytes_after": after.file_bytes, "rows_left": store.count()?,
        }));
    }
    Ok(())
}

fn documented_queries(since: i64) -> Vec<(&'static str, Query)> {
    let since_1h = |q: Query| Query {
        since: Some(since),
        ..q
    };
    let top = |key, n| Query {
        top: Some((key, n)),
        ..Query::default()
    };
    vec![
        ("top cpu 10 since 1h", since_1h(top(TopKey::Cpu, 10))),
        ("top rss 10 since 1h", since_1h(top(TopKey::Rss, 10))),
        ("top io 10 since 1h", since_1h(top(TopKey::Io, 10))),
        (
            "top lifetime 10 since 1h",
            since_1h(top(TopKey::Lifetime, 10)),
        ),
        ("top cpu 10 (all time)", top(TopKey::Cpu, 10)),
        (
            "comm=rarecmd since 1h",
            since_1h(Query {
                comm: Some("rarecmd".into()),
                ..Query::default()
            }),
        ),
        (
            "exe=/usr/bin/rarecmd",
            Query {
                exe: Some("/usr/bin/rarecmd".into()),
                ..Query::default()
            },
        ),
        (
            "uid=1042 since 1h",
            since_1h(Query {
                uid: Some(1042),
                ..Query::default()
            }),
        ),
        (
            "pid=4242",
            Query {
                pid: Some(4242),
                ..Query::default()
            },
        ),
        (
            "failed since 1h limit 100",
            since_1h(Query {
                failed: true,
                limit: Some(100),
                ..Query::default()
            }),
        ),
        (
            "tree 2 (a build job, 1,000 descendants)",
            Query {
                tree_root: Some(TREE_ROOT_PID),
                ..Query::default()
            },
        ),
        (
            "since 1h limit 50",
            since_1h(Query {
                limit: Some(50),
                ..Query::default()
            }),
        ),
    ]
}

fn time_query(
    store: &Store,
    scenario: &str,
    label: &str,
    name: &str,
    query: &Query,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut times = Vec::with_capacity(QUERY_RUNS);
    let mut found = 0;
    for _ in 0..QUERY_RUNS {
        let started = Instant::now();
        found = store.query(query)?.len();
        times.push(started.elapsed());
    }
    times.sort();
    let ms = |d: Duration| round(d.as_secs_f64() * 1e3, 2);
    print_line(json!({
        "metric": "query", "scenario": scenario, "stats": label, "query": name,
        "rows_returned": found, "median_ms": ms(times[QUERY_RUNS / 2]),
        "min_ms": ms(times[0]), "max_ms": ms(times[QUERY_RUNS - 1]),
        "plan": store.explain(query)?,
    }));
    Ok(())
}

/// The writer thread end to end: `try_record` as fast as the queue takes them.
fn recorder_ingest(
    dir: &Path,
    now_ns: i64,
    rows: usize,
    batch_rows: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let path = dir.join("recorder.db");
    let config = RecorderConfig {
        batch_rows,
        ..RecorderConfig::default()
    };
    let recorder = Recorder::start(&path, config)?;
    let mut workload = Workload::new(Mix::Realistic, now_ns, 3_600 * NS_PER_SEC, rows);
    let started = Instant::now();
    let mut refused = 0u64;
    while let Some(l) = workload.next() {
        while !recorder.try_record(l.clone()) {
            refused += 1;
            std::thread::yield_now();
        }
    }
    let stats = recorder.shutdown()?;
    let seconds = started.elapsed().as_secs_f64();
    print_line(json!({
        "metric": "ingest", "path": "Recorder::try_record (making rows included)",
        "scenario": "storm", "rows": stats.committed, "batch_rows": batch_rows,
        "batches": stats.batches, "queue_full_retries": refused, "seconds": round(seconds, 3),
        "lifetimes_per_s": (stats.committed as f64 / seconds).round(),
    }));
    std::fs::remove_file(&path)?;
    Ok(())
}

/// The pid of a long-lived build job whose subtree the tree query walks.
const TREE_ROOT_PID: u32 = 2;

const COMMANDS: [&str; 24] = [
    "bash",
    "sh",
    "ls",
    "cat",
    "grep",
    "sed",
    "awk",
    "git",
    "make",
    "cc1",
    "as",
    "ld",
    "rustc",
    "cargo",
    "python3",
    "sleep",
    "date",
    "systemctl",
    "sshd",
    "cron",
    "find",
    "xargs",
    "tar",
    "gzip",
];

/// Who forks and as whom.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mix {
    /// 90% of lifetimes from 20 parents that change every 20,000 rows (shells, make,
    /// a service), the rest from 1,000; uids 0 and 1000 mostly, 8 others.
    Realistic,
    /// Parents among 2,000 and uids among 100, uniformly: the worst case for the indexes
    /// on ppid and uid.
    Adversarial,
}

/// Deterministic lifetimes: pids wrap at 4,194,304 (so they are reused), a skewed mix of
/// 24 commands, argv of 1-6 arguments, taskstats on every row, 1% with a uid change.
struct Workload {
    mix: Mix,
    rng: u64,
    next_pid: u32,
    now_ns: i64,
    span_ns: i64,
    remaining: usize,
    total: usize,
}

impl Workload {
    fn new(mix: Mix, now_ns: i64, span_ns: i64, rows: usize) -> Self {
        Workload {
            mix,
            rng: 0x9e37_79b9_7f4a_7c15,
            next_pid: 300,
            now_ns,
            span_ns,
            remaining: rows,
            total: rows,
        }
    }

    fn random(&mut self) -> u64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Roughly log-uniform in [1, 2^bits).
    fn skewed(&mut self, bits: u32) -> u64 {
        let shift = self.random() % u64::from(bits);
        self.random() % (1 << shift).max(2)
    }

    fn next(&mut self) -> Option<Lifetime> {
        if self.remaining == 0 {
            return None;
        }
        let index = self.total - self.remaining;
        self.remaining -= 1;
        let pid = self.next_pid;
        self.next_pid = if self.next_pid >= 4_194_303 {
            300
        } else {
            self.next_pid + 1 + (self.random() % 3) as u32
        };
        // End times increase with the row, as exits arrive; lifetimes mostly short.
        let end_ns = self.now_ns - self.span_ns
            + (self.span_ns as i128 * index as i128 / self.total as i128) as i64;
        let lifetime_ns = self.skewed(36) as i64;
        let start_ns = end_ns - lifetime_ns;
        // Every 1,000th row is a child of the build job (pid 2, alive for the whole span).
        let ppid = if index % 1_000 == 0 {
            TREE_ROOT_PID
        } else if self.mix == Mix::Adversarial || self.random() % 10 == 0 {
            1 + (self.random()
                % if self.mix == Mix::Adversarial {
                    2_000
                } else {
                    1_000
                }) as u32
        } else {
            10_000 + (index / 20_000) as u32 * 20 + (self.random() % 20) as u32
        };
        let command = if index % 100_000 == 7 {
            "rarecmd"
        } else {
            let skew = self.skewed(5) as usize;
            COMMANDS[skew % COMMANDS.len()]
        };
        let uid = match self.random() % 10 {
            0..=4 => 0,
            5..=8 => 1000,
            _ if self.mix == Mix::Adversarial => 1001 + (self.random() % 100) as u32,
            _ => 1001 + (self.random() % 8) as u32,
        };
        let gid = uid;
        let args = 1 + self.random() % 6;
        let mut argv = vec![command.to_string()];
        for _ in 1..args {
            let n = self.random() % 10_000;
            argv.push(match n % 3 {
                0 => format!("--option-{}", n % 40),
                1 => format!("/home/user/project/src/file{n}.rs"),
                _ => format!("{n}"),
            });
        }
        let failed = self.random() % 50 == 0;
        let (exit_code, signal) = match (failed, self.random() % 4) {
            (false, _) => (Some(0), None),
            (true, 0) => (None, Some(9)),
            (true, _) => (Some(1 + (self.random() % 3) as i32), None),
        };
        let mut delays = std::collections::BTreeMap::new();
        delays.insert(
            "cpu".to_string(),
            Delay {
                count: self.skewed(10),
                total_ns: self.skewed(30),
            },
        );
        let stats = TaskStats {
            utime_us: self.skewed(30),
            stime_us: self.skewed(26),
            minflt: self.skewed(16),
            majflt: self.skewed(4),
            hiwater_rss_kb: 1_000 + self.skewed(20),
            hiwater_vm_kb: 10_000 + self.skewed(24),
            read_bytes: self.skewed(30),
            write_bytes: self.skewed(30),
            nvcsw: self.skewed(12),
            nivcsw: self.skewed(8),
            delays,
        };
        let mut changes = Vec::new();
        if index % 100 == 50 {
            changes.push(Change {
                ts_ns: start_ns + lifetime_ns / 2,
                kind: ChangeKind::Uid,
                old: Some(ChangeValue::Int(uid.into())),
                new: ChangeValue::Int(0),
            });
        }
        Some(Lifetime {
            pid,
            tgid: pid,
            ppid,
            is_thread: false,
            uid_start: uid,
            gid_start: gid,
            uid_end: if changes.is_empty() { uid } else { 0 },
            gid_end: gid,
            start_ns,
            end_ns,
            comm: command.to_string(),
            exe: Some(format!("/usr/bin/{command}")),
            argv: Some(argv),
            exit_code,
            signal,
            core_dumped: false,
            stats: Some(stats),
            changes,
        })
    }
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

/// The machine is shared: the load average says how much the figures can be trusted.
fn print_load(when: &str) {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    print_line(json!({"metric": "machine", "when": when, "cpus": cpus, "loadavg": load.trim()}));
}

fn print_line(value: serde_json::Value) {
    println!("{value}");
}
