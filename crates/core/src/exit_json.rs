//! The JSON line format of `taskwatch exits --json`: one object per exiting process (per
//! thread with `--threads`), written without allocation. This comment is the contract.
//!
//! `"pid"`, `"tgid"`, `"ppid"`, `"uid"`, `"gid"`, `"comm"`, `"exit_code"` (null when killed
//! by a signal, or still running for `taskwatch stat`), `"signal"` (null when it exited), `"core_dumped"`, `"btime"` (start,
//! seconds since the epoch), `"elapsed_us"`, `"utime_us"`, `"stime_us"`, `"minflt"`,
//! `"majflt"`, `"hiwater_rss_kb"`, `"hiwater_vm_kb"`, `"read_bytes"`, `"write_bytes"`,
//! `"read_char"`, `"write_char"`, `"nvcsw"`, `"nivcsw"`, `"cpu"` (where it exited; null
//! when unknown), `"version"` (the kernel's struct taskstats version), `"delays"`: an
//! object with one entry per class the kernel has — `"cpu"`, `"blkio"`, `"swapin"`,
//! `"freepages"`, `"thrashing"`, `"compact"`, `"wpcopy"`, `"irq"` — each
//! `{"count", "total_ns", "max_ns", "min_ns"}` (max/min null before struct version 15).
//! For a process the counters are summed over its threads (peaks are maxima) and the
//! delays are the kernel's own per-process sums. A loss is `{"event": "lost", "count": N,
//! "source": "..."}`. Fields may be added; these names and meanings stay.

use crate::exit_record::ExitRecord;
use crate::json::{field_bool, field_opt, field_u64, key, push_str};

/// Appends one exit line and a newline; `cpu` is where the task exited, when known.
pub fn write_exit(out: &mut Vec<u8>, r: &ExitRecord, cpu: Option<u32>) {
    out.push(b'{');
    out.extend_from_slice(b"\"pid\":");
    crate::json::push_u64(out, r.pid as u64);
    field_u64(out, "tgid", r.tgid as u64);
    field_u64(out, "ppid", r.ppid as u64);
    field_u64(out, "uid", r.uid as u64);
    field_u64(out, "gid", r.gid as u64);
    key(out, "comm");
    push_str(out, r.comm.as_bytes());
    field_opt(
        out,
        "exit_code",
        r.status.and_then(|s| s.code()).map(u64::from),
    );
    field_opt(
        out,
        "signal",
        r.status.and_then(|s| s.signal()).map(u64::from),
    );
    field_bool(
        out,
        "core_dumped",
        r.status.is_some_and(|s| s.core_dumped()),
    );
    field_u64(out, "btime", r.btime as u64);
    field_u64(out, "elapsed_us", r.elapsed_us);
    let c = &r.counters;
    for (name, v) in [
        ("utime_us", c.utime_us),
        ("stime_us", c.stime_us),
        ("minflt", c.minflt),
        ("majflt", c.majflt),
        ("hiwater_rss_kb", c.hiwater_rss_kb),
        ("hiwater_vm_kb", c.hiwater_vm_kb),
        ("read_bytes", c.read_bytes),
        ("write_bytes", c.write_bytes),
        ("read_char", c.read_char),
        ("write_char", c.write_char),
        ("nvcsw", c.nvcsw),
        ("nivcsw", c.nivcsw),
    ] {
        field_u64(out, name, v);
    }
    field_opt(out, "cpu", cpu.map(u64::from));
    field_u64(out, "version", r.version as u64);
    out.extend_from_slice(b",\"delays\":{");
    for (i, (class, d)) in r.delays.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str(out, class.name().as_bytes());
        out.extend_from_slice(b":{\"count\":");
        crate::json::push_u64(out, d.count);
        field_u64(out, "total_ns", d.total_ns);
        field_opt(out, "max_ns", d.max_ns);
        field_opt(out, "min_ns", d.min_ns);
        out.push(b'}');
    }
    out.extend_from_slice(b"}}\n");
}

/// Appends a loss line.
pub fn write_lost(out: &mut Vec<u8>, count: u64, source: &str) {
    out.extend_from_slice(b"{\"event\":\"lost\",\"count\":");
    crate::json::push_u64(out, count);
    key(out, "source");
    push_str(out, source.as_bytes());
    out.extend_from_slice(b"}\n");
}
