//! `history --json`: one lifetime per line. Contract (fields may be added, never renamed):
//! "pid", "tgid", "ppid", "uid", "gid", "comm", "exe", "argv", "start_time", "end_time"
//! (RFC 3339), "lifetime_ns", "exit_code", "signal", "core_dumped", and when taskstats
//! delivered them "utime_us", "stime_us", "hiwater_rss_kb", "read_bytes", "write_bytes"
//! (plus "minflt", "majflt", "hiwater_vm_kb", "nvcsw", "nivcsw", "delays"). Also
//! "uid_end", "gid_end", "is_thread", and with --changes "changes": [{"time", "kind",
//! "old", "new"}]. `uid`/`gid` are the real ids at start; exit_code XOR signal is set.

use std::collections::BTreeMap;

use serde::Serialize;
use taskwatch_store::{ChangeValue, Lifetime, TaskStats};

use super::when::rfc3339;

#[derive(Serialize)]
struct Line<'a> {
    pid: u32,
    tgid: u32,
    ppid: u32,
    uid: u32,
    gid: u32,
    uid_end: u32,
    gid_end: u32,
    is_thread: bool,
    comm: &'a str,
    exe: Option<&'a str>,
    argv: Option<&'a [String]>,
    start_time: String,
    end_time: String,
    lifetime_ns: i64,
    exit_code: Option<i32>,
    signal: Option<i32>,
    core_dumped: bool,
    #[serde(flatten)]
    stats: Option<Stats<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    changes: Option<Vec<ChangeLine<'a>>>,
}

#[derive(Serialize)]
struct Stats<'a> {
    utime_us: u64,
    stime_us: u64,
    hiwater_rss_kb: u64,
    hiwater_vm_kb: u64,
    read_bytes: u64,
    write_bytes: u64,
    minflt: u64,
    majflt: u64,
    nvcsw: u64,
    nivcsw: u64,
    delays: BTreeMap<&'a str, DelayLine>,
}

#[derive(Serialize)]
struct DelayLine {
    count: u64,
    total_ns: u64,
}

#[derive(Serialize)]
struct ChangeLine<'a> {
    time: String,
    kind: &'static str,
    old: Option<Value<'a>>,
    new: Value<'a>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Value<'a> {
    Int(i64),
    Text(&'a str),
}

/// Appends one lifetime as a JSON line.
pub fn write(out: &mut Vec<u8>, l: &Lifetime, changes: bool) {
    let line = Line {
        pid: l.pid,
        tgid: l.tgid,
        ppid: l.ppid,
        uid: l.uid_start,
        gid: l.gid_start,
        uid_end: l.uid_end,
        gid_end: l.gid_end,
        is_thread: l.is_thread,
        comm: &l.comm,
        exe: l.exe.as_deref(),
        argv: l.argv.as_deref(),
        start_time: rfc3339(l.start_ns),
        end_time: rfc3339(l.end_ns),
        lifetime_ns: l.lifetime_ns(),
        exit_code: l.exit_code,
        signal: l.signal,
        core_dumped: l.core_dumped,
        stats: l.stats.as_ref().map(stats),
        changes: changes.then(|| {
            l.changes
                .iter()
                .map(|c| ChangeLine {
                    time: rfc3339(c.ts_ns),
                    kind: c.kind.name(),
                    old: c.old.as_ref().map(value),
                    new: value(&c.new),
                })
                .collect()
        }),
    };
    // Serializing plain fields into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &line);
    out.push(b'\n');
}

fn stats(s: &TaskStats) -> Stats<'_> {
    Stats {
        utime_us: s.utime_us,
        stime_us: s.stime_us,
        hiwater_rss_kb: s.hiwater_rss_kb,
        hiwater_vm_kb: s.hiwater_vm_kb,
        read_bytes: s.read_bytes,
        write_bytes: s.write_bytes,
        minflt: s.minflt,
        majflt: s.majflt,
        nvcsw: s.nvcsw,
        nivcsw: s.nivcsw,
        delays: s
            .delays
            .iter()
            .map(|(class, d)| {
                let line = DelayLine {
                    count: d.count,
                    total_ns: d.total_ns,
                };
                (class.as_str(), line)
            })
            .collect(),
    }
}

fn value(v: &ChangeValue) -> Value<'_> {
    match v {
        ChangeValue::Int(i) => Value::Int(*i),
        ChangeValue::Text(t) => Value::Text(t),
    }
}
