//! `taskwatch stat PID`: a running task's statistics now, from a live taskstats query
//! (the thread's own, or its whole process's with --tgid).

use std::io::Write;

use anyhow::Context;
use taskwatch_core::exit_json::write_exit;
use taskwatch_core::exit_record::ExitRecord;
use taskwatch_core::exit_stats::ExitStats;
use taskwatch_kernel::taskstats::{query, Target};

use crate::args::StatArgs;
use crate::watchers::exits::{bytes, duration_ns, duration_us};

pub fn run(args: &StatArgs) -> anyhow::Result<()> {
    let target = if args.tgid {
        Target::Tgid(args.pid)
    } else {
        Target::Pid(args.pid)
    };
    let stats = query(target).with_context(|| format!("cannot query {target}"))?;
    let exit = ExitStats {
        task: stats,
        process: None,
        cpu: None,
    };
    let mut line = ExitRecord::thread(&exit, None);
    if args.tgid {
        // The kernel zeroes identity fields in a TGID answer: name the group as asked.
        line.pid = args.pid;
        line.tgid = args.pid;
    }
    let mut out = Vec::new();
    if args.json {
        write_exit(&mut out, &line, None);
    } else {
        write_human(&mut out, &line, args.delays)?;
    }
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(&out).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to standard output"),
    }
}

fn write_human(out: &mut Vec<u8>, r: &ExitRecord, delays: bool) -> std::io::Result<()> {
    let c = &r.counters;
    let comm = r.comm.to_string();
    writeln!(
        out,
        "pid {} ({})  tgid {}  ppid {}  uid {}  gid {}",
        r.pid,
        if comm.is_empty() { "?" } else { &comm },
        r.tgid,
        r.ppid,
        r.uid,
        r.gid
    )?;
    writeln!(out, "  running for {}", duration_us(r.elapsed_us))?;
    writeln!(
        out,
        "  cpu       user {}  system {}  context switches {} voluntary, {} involuntary",
        duration_us(c.utime_us),
        duration_us(c.stime_us),
        c.nvcsw,
        c.nivcsw
    )?;
    writeln!(
        out,
        "  memory    peak rss {}  peak vm {}  faults {} minor, {} major",
        bytes(c.hiwater_rss_kb * 1024),
        bytes(c.hiwater_vm_kb * 1024),
        c.minflt,
        c.majflt
    )?;
    writeln!(
        out,
        "  io        storage read {} written {}  syscalls read {} written {}",
        bytes(c.read_bytes),
        bytes(c.write_bytes),
        bytes(c.read_char),
        bytes(c.write_char)
    )?;
    if delays {
        for (class, d) in &r.delays {
            write!(
                out,
                "  delay {:<10} {:>8}x  total {:>9}  avg {:>9}",
                class.name(),
                d.count,
                duration_ns(d.total_ns),
                duration_ns(d.mean_ns())
            )?;
            if let (Some(max), Some(min)) = (d.max_ns, d.min_ns) {
                write!(
                    out,
                    "  max {:>9}  min {:>9}",
                    duration_ns(max),
                    duration_ns(min)
                )?;
            }
            writeln!(out)?;
        }
    }
    Ok(())
}
