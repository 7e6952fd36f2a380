//! `exits` lines from real taskstats datagrams (captured on 6.18): a single-threaded exit
//! with status 7, and a two-thread process whose line sums its threads.

use taskwatch_core::exit_json::write_exit;
use taskwatch_core::exit_record::ProcessTotals;
use taskwatch_core::exit_stats::ExitStats;
use taskwatch_core::ExitStatus;
use taskwatch_wire::taskstats::{parse_datagram, Aggregate, Message};

const FAMILY: u16 = 31;

fn capture(name: &str) -> ExitStats {
    let path = format!(
        "{}/../wire/testdata/taskstats/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let hex: String = text.lines().filter(|l| !l.starts_with('#')).collect();
    let bytes: Vec<u8> = (0..hex.trim().len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let messages = parse_datagram(&bytes, FAMILY).unwrap();
    let Message::Stats { records, .. } = &messages[0] else {
        panic!("not a stats message");
    };
    let mut stats = ExitStats {
        task: records[0].stats.clone(),
        process: None,
        cpu: Some(0),
    };
    if let Some(r) = records.get(1) {
        assert!(matches!(r.aggregate, Aggregate::Tgid(_)));
        stats.process = Some(r.stats.clone());
    }
    stats
}

fn status(stats: &ExitStats) -> ExitStatus {
    ExitStatus::from_wait_status(stats.task.ac_exitcode)
}

#[test]
fn a_single_threaded_exit_is_one_process_line_with_its_code() {
    let single = capture("exit_single");
    let mut totals = ProcessTotals::default();
    let line = totals
        .add(&single, status(&single), 1_000_000_000_000)
        .expect("the only thread is the last thread");
    assert_eq!(line.status.and_then(|s| s.code()), Some(7));
    assert_eq!(line.pid, single.task.ac_pid);
    assert_eq!(line.elapsed_us, single.task.ac_etime);
    assert_eq!(line.counters.minflt, single.task.ac_minflt);
    let mut out = Vec::new();
    write_exit(&mut out, &line, Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    for key in [
        "pid",
        "tgid",
        "ppid",
        "uid",
        "gid",
        "comm",
        "exit_code",
        "signal",
        "core_dumped",
        "btime",
        "elapsed_us",
        "utime_us",
        "stime_us",
        "minflt",
        "majflt",
        "hiwater_rss_kb",
        "hiwater_vm_kb",
        "read_bytes",
        "write_bytes",
        "read_char",
        "write_char",
        "nvcsw",
        "nivcsw",
        "cpu",
        "version",
        "delays",
    ] {
        assert!(v.get(key).is_some(), "{key} missing in {v}");
    }
    assert_eq!(v["exit_code"], 7);
    assert_eq!(v["signal"], serde_json::Value::Null);
    assert_eq!(v["cpu"], 1);
    assert_eq!(v["version"], 16);
    let cpu = &v["delays"]["cpu"];
    assert!(cpu["count"].as_u64().unwrap() > 0, "{v}");
    assert!(cpu["max_ns"].as_u64().is_some(), "v16 has max/min: {v}");
    assert_eq!(v["delays"].as_object().unwrap().len(), 8);
}

#[test]
fn a_process_line_sums_its_threads_and_comes_with_the_last() {
    let worker = capture("exit_worker");
    let last = capture("exit_last_thread");
    let mut totals = ProcessTotals::default();
    assert!(totals.add(&worker, status(&worker), 1_000_000).is_none());
    assert_eq!(totals.pending(), 1);
    let line = totals
        .add(&last, status(&last), 2_000_000)
        .expect("AGROUP: the group is dead");
    assert_eq!(totals.pending(), 0);
    assert_eq!(line.pid, last.task.ac_tgid);
    assert_eq!(
        line.counters.minflt,
        worker.task.ac_minflt + last.task.ac_minflt
    );
    assert_eq!(
        line.counters.read_char,
        worker.task.read_char + last.task.read_char
    );
    let process = last.process.as_ref().unwrap();
    assert_eq!(
        line.counters.utime_us,
        process
            .ac_utime
            .max(worker.task.ac_utime + last.task.ac_utime)
    );
    assert_eq!(line.elapsed_us, process.ac_etime);
}
