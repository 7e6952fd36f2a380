//! Golden tests on generic netlink / taskstats datagrams captured from a real kernel
//! (Linux 6.18, x86_64, taskstats version 16): each decodes to the expected values and
//! re-emits to the captured bytes; each request we build is the one the kernel accepted.
//!
//! The captures are `testdata/taskstats/*.hex`, made by `testdata/capture_taskstats.py`
//! (which runs `testdata/taskstats_trigger.c`). Fields are native-endian: little-endian bytes.
#![cfg(target_endian = "little")]

use taskwatch_wire::error::Reason;
use taskwatch_wire::genetlink::attr::emit;
use taskwatch_wire::genetlink::ctrl::{self, Family, CTRL_CMD_NEWFAMILY, GENL_ID_CTRL};
use taskwatch_wire::genetlink::{self, attributes};
use taskwatch_wire::netlink::{self, NLMSG_ERROR, NLM_F_ACK, NLM_F_REQUEST};
use taskwatch_wire::taskstats::{
    self, kind, parse_datagram, Aggregate, Command, DelayClass, Message, Record, Request,
    Taskstats, Timespec, KNOWN_LEN, LEN_V16, LEN_V17, MIN_LEN,
};

// ---------------------------------------------------------------------------------------
// Facts of the capture (see the `#` lines of each .hex file).
// ---------------------------------------------------------------------------------------

/// The family id the controller gave "TASKSTATS" on the capture machine.
const FAMILY: u16 = 31;
/// Port id of the capture's command socket (= the capture script's pid).
const CMD_PORT: u32 = 3015;
/// Port id of the capture's listener socket (a kernel-chosen id: the pid was taken).
const LISTENER_PORT: u32 = 2_879_088_553;
/// The `single` trigger, which exited 7.
const SINGLE: u32 = 3163;
/// The `threads` trigger's main thread (= its tgid).
const LEADER: u32 = 3160;
/// The worker thread whose exit was kept.
const WORKER: u32 = 3162;

/// The `single` trigger's exit: one `AGGR_PID` nest, the struct at offset 36 (4 mod 8),
/// no `NULL` padding. With `kernel.task_delayacct = 0` only the CPU class has delays.
#[rustfmt::skip]
const EXIT_SINGLE: [u8; 596] = [
    // struct nlmsghdr
    0x54, 0x02, 0x00, 0x00, // nlmsg_len = 596
    0x1f, 0x00, // nlmsg_type = 31 (the TASKSTATS family id)
    0x00, 0x00, // nlmsg_flags = 0
    0x00, 0x00, 0x00, 0x00, // nlmsg_seq = 0 (per-CPU counter)
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid = 0 (the kernel)
    // struct genlmsghdr
    0x02, // cmd = 2 (TASKSTATS_CMD_NEW)
    0x01, // version = 1
    0x00, 0x00, // reserved
    // nlattr TASKSTATS_TYPE_AGGR_PID (no NLA_F_NESTED)
    0x40, 0x02, // nla_len = 576
    0x04, 0x00, // nla_type = 4 (AGGR_PID)
    // nlattr TASKSTATS_TYPE_PID
    0x08, 0x00, // nla_len = 8
    0x01, 0x00, // nla_type = 1 (PID)
    0x5b, 0x0c, 0x00, 0x00, // pid = 3163
    // nlattr TASKSTATS_TYPE_STATS
    0x34, 0x02, // nla_len = 564
    0x03, 0x00, // nla_type = 3 (STATS)
    // struct taskstats (version 16, 560 bytes) at datagram offset 36: 4 mod 8
    0x10, 0x00, // version = 16
    0x00, 0x00, // (padding)
    0x00, 0x07, 0x00, 0x00, // ac_exitcode = 0x700 (exit(7): raw wait status 7 << 8)
    0x20, // ac_flag = 0x20 (AGROUP)
    0x00, // ac_nice = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // (padding)
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cpu_count = 2
    0xe3, 0x16, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cpu_delay_total = 5859
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // blkio_count = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // blkio_delay_total = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // swapin_count = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // swapin_delay_total = 0
    0x00, 0x1b, 0xb7, 0x00, 0x00, 0x00, 0x00, 0x00, // cpu_run_real_total = 12000000
    0xa7, 0xec, 0x91, 0x00, 0x00, 0x00, 0x00, 0x00, // cpu_run_virtual_total = 9563303
    0x74, 0x77, 0x2d, 0x74, 0x73, 0x2d, 0x65, 0x78, 0x69, 0x74, 0x37, 0x00, 0x00, 0x00, 0x00, 0x00, // ac_comm[0..16] = 'tw-ts-exit7'
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // ac_comm[16..32] = NUL padding
    0x00, // ac_sched = 0
    0x00, 0x00, 0x00, // ac_pad
    0x00, 0x00, 0x00, 0x00, // (padding)
    0x00, 0x00, 0x00, 0x00, // ac_uid = 0
    0x00, 0x00, 0x00, 0x00, // ac_gid = 0
    0x5b, 0x0c, 0x00, 0x00, // ac_pid = 3163
    0xc7, 0x0b, 0x00, 0x00, // ac_ppid = 3015
    0x0d, 0x38, 0x01, 0x6b, // ac_btime = 1795241997
    0x00, 0x00, 0x00, 0x00, // (padding)
    0xaf, 0x2e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // ac_etime = 11951
    0xe0, 0x2e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // ac_utime = 12000
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // ac_stime = 0
    0x36, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // ac_minflt = 310
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // ac_majflt = 0
    0xb8, 0x32, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // coremem = 12984
    0x57, 0x71, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // virtmem = 29015
    0xf8, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // hiwater_rss = 2040
    0xb0, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // hiwater_vm = 3504
    0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, // read_char = 68608
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, // write_char = 65536
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // read_syscalls = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // write_syscalls = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // read_bytes = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // write_bytes = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cancelled_write_bytes = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // nvcsw = 0
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // nivcsw = 1
    0xe0, 0x2e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // ac_utimescaled = 12000
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // ac_stimescaled = 0
    0x00, 0x1b, 0xb7, 0x00, 0x00, 0x00, 0x00, 0x00, // cpu_scaled_run_real_total = 12000000
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // freepages_count = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // freepages_delay_total = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // thrashing_count = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // thrashing_delay_total = 0
    0x0d, 0x38, 0x01, 0x6b, 0x00, 0x00, 0x00, 0x00, // ac_btime64 = 1795241997
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // compact_count = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // compact_delay_total = 0
    0x5b, 0x0c, 0x00, 0x00, // ac_tgid = 3163
    0x00, 0x00, 0x00, 0x00, // (padding)
    0xaf, 0x2e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // ac_tgetime = 11951
    0x00, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // ac_exe_dev = 65024
    0x07, 0xe0, 0x98, 0x00, 0x00, 0x00, 0x00, 0x00, // ac_exe_inode = 10018823
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // wpcopy_count = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // wpcopy_delay_total = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // irq_count = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // irq_delay_total = 0
    0x77, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cpu_delay_max = 2935
    0x6c, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cpu_delay_min = 2924
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // blkio_delay_max = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // blkio_delay_min = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // swapin_delay_max = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // swapin_delay_min = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // freepages_delay_max = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // freepages_delay_min = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // thrashing_delay_max = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // thrashing_delay_min = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // compact_delay_max = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // compact_delay_min = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // wpcopy_delay_max = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // wpcopy_delay_min = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // irq_delay_max = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // irq_delay_min = 0
];

// ---------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------

/// Decodes a `.hex` capture: `#` lines are comments, the rest is the datagram in hex.
fn hex_file(text: &str) -> Vec<u8> {
    let hex: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    assert!(hex.len() % 2 == 0, "odd number of hex digits");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// The one message of a datagram, which must be `TASKSTATS_CMD_NEW`.
fn stats_message(datagram: &[u8]) -> (netlink::Header, genetlink::Header, Vec<Record>) {
    let mut messages = parse_datagram(datagram, FAMILY).expect("decodes");
    assert_eq!(messages.len(), 1);
    match messages.remove(0) {
        Message::Stats {
            header,
            genl,
            records,
        } => (header, genl, records),
        other => panic!("not a stats message: {other:?}"),
    }
}

/// The one message of a datagram, which must be `NLMSG_ERROR`.
fn error_message(datagram: &[u8]) -> (netlink::Header, netlink::ErrorMessage) {
    let messages = parse_datagram(datagram, FAMILY).expect("decodes");
    assert_eq!(messages.len(), 1);
    match messages[0] {
        Message::Error { header, error } => (header, error),
        ref other => panic!("not an error message: {other:?}"),
    }
}

/// Re-emits a `TASKSTATS_CMD_NEW` message the way the kernel builds it.
fn emit_stats(header: netlink::Header, genl: genetlink::Header, records: &[Record]) -> Vec<u8> {
    let mut attrs = Vec::new();
    for record in records {
        let (outer, inner, id) = match record.aggregate {
            Aggregate::Pid(pid) => (kind::AGGR_PID, kind::PID, pid),
            Aggregate::Tgid(tgid) => (kind::AGGR_TGID, kind::TGID, tgid),
        };
        let mut stats = Vec::new();
        record.stats.emit(&mut stats);
        let mut nest = Vec::new();
        emit(&mut nest, inner, &id.to_ne_bytes());
        emit(&mut nest, kind::STATS, &stats);
        emit(&mut attrs, outer, &nest);
    }
    let mut out = Vec::new();
    header.emit(&mut out);
    genl.emit(&mut out);
    out.extend_from_slice(&attrs);
    out
}

fn kernel_header(len: u32, seq: u32, pid: u32) -> netlink::Header {
    netlink::Header {
        len,
        kind: FAMILY,
        flags: 0,
        seq,
        pid,
    }
}

const CMD_NEW: genetlink::Header = genetlink::Header {
    cmd: taskstats::cmd::NEW,
    version: 1,
    reserved: 0,
};

fn request(seq: u32, portid: u32, command: Command) -> Vec<u8> {
    Request {
        family: FAMILY,
        seq,
        portid,
        command,
    }
    .to_datagram()
}

/// Offsets of the STATS payloads of a datagram's records, found by walking attributes.
fn stats_offsets(datagram: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    for outer in attributes(&datagram[20..]).at_offset(20) {
        let outer = outer.unwrap();
        assert!(!outer.nested, "taskstats nests lack NLA_F_NESTED");
        for inner in outer.nest() {
            let inner = inner.unwrap();
            if inner.kind == kind::STATS {
                out.push(inner.payload_offset());
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Resolving the family.
// ---------------------------------------------------------------------------------------

#[test]
fn getfamily_request_is_the_one_the_kernel_answered() {
    let sent = hex_file(include_str!("../testdata/taskstats/getfamily_request.hex"));
    assert_eq!(
        ctrl::get_family_request(taskstats::GENL_NAME, 1, CMD_PORT),
        sent
    );
}

#[test]
fn getfamily_reply_gives_id_version_and_maxattr() {
    let reply = hex_file(include_str!("../testdata/taskstats/getfamily_reply.hex"));
    let message = netlink::messages(&reply).next().unwrap().unwrap();
    assert_eq!(
        message.header,
        netlink::Header {
            len: 112,
            kind: GENL_ID_CTRL,
            flags: 0,
            seq: 1,
            pid: CMD_PORT,
        }
    );
    let genl = genetlink::Message::parse(message.payload).unwrap();
    // The controller answers with its own interface version, 2.
    assert_eq!(
        (genl.header.cmd, genl.header.version),
        (CTRL_CMD_NEWFAMILY, 2)
    );
    assert_eq!(
        Family::parse(message.payload).unwrap(),
        Family {
            id: Some(FAMILY),
            name: Some(b"TASKSTATS".to_vec()),
            version: Some(1),
            hdrsize: Some(0),
            // Per-operation policies: the family-wide maxattr is 0.
            max_attr: Some(0),
        }
    );
    // The family's messages are none of ours: a taskstats decoder calls them Other.
    assert!(matches!(
        parse_datagram(&reply, FAMILY).unwrap()[0],
        Message::Other { .. }
    ));
}

// ---------------------------------------------------------------------------------------
// Exit records.
// ---------------------------------------------------------------------------------------

#[test]
fn exit_of_a_single_threaded_process() {
    let captured = hex_file(include_str!("../testdata/taskstats/exit_single.hex"));
    assert_eq!(captured, EXIT_SINGLE);
    assert_eq!(stats_offsets(&captured), [36]);
    let (header, genl, records) = stats_message(&captured);
    assert_eq!(header, kernel_header(596, 0, 0));
    assert_eq!(genl, CMD_NEW);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].aggregate, Aggregate::Pid(SINGLE));
    let t = &records[0].stats;
    assert_eq!((t.version, t.len), (16, LEN_V16));
    assert_eq!(t.ac_exitcode, 0x700, "exit(7) as a raw wait status");
    assert_eq!(t.ac_flag, 0x20, "AGROUP: the last task of its process");
    assert_eq!(t.comm(), b"tw-ts-exit7");
    assert_eq!((t.ac_pid, t.ac_tgid, t.ac_ppid), (SINGLE, SINGLE, CMD_PORT));
    assert_eq!((t.ac_uid, t.ac_gid), (0, 0));
    assert_eq!(t.begin_time(), u64::from(t.ac_btime));
    assert!(t.ac_etime > 0 && t.cpu_run_virtual_total > 0);
    assert!(t.ac_utime + t.ac_stime > 0, "it spun 20M iterations");
    assert!(t.ac_minflt >= 256, "it touched 1 MiB");
    // 16 × 4 KiB through read(2)/write(2), plus the ELF loader's reads; rounded to KiB.
    assert_eq!((t.read_char, t.write_char), (68608, 65536));
    assert_eq!(
        (t.read_syscalls, t.write_syscalls),
        (0, 0),
        "rounded down to 1024s"
    );
    assert!(t.hiwater_rss > 0 && t.hiwater_vm > t.hiwater_rss);
    assert!(t.ac_exe_inode != 0 && t.ac_tgetime > 0);
    // Delay accounting is off: only the CPU class counts, and v16 has max and min.
    let delays = t.delays();
    assert_eq!(
        delays.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        DelayClass::ALL
    );
    let cpu = t.delay(DelayClass::Cpu).unwrap();
    assert_eq!((cpu.count, cpu.total_ns), (2, 5859));
    assert_eq!(
        (cpu.max_ns, cpu.min_ns, cpu.max_at),
        (Some(2935), Some(2924), None)
    );
    for (class, delay) in &delays[1..] {
        assert_eq!(delay.count, 0, "{class:?}");
        assert_eq!(delay.max_ns, Some(0), "{class:?}");
    }
    assert_eq!(emit_stats(header, genl, &records), captured);
}

#[test]
fn exit_of_a_thread_while_its_group_lives_has_no_tgid_record() {
    let captured = hex_file(include_str!("../testdata/taskstats/exit_worker.hex"));
    assert_eq!(captured.len(), 596);
    let (header, genl, records) = stats_message(&captured);
    assert_eq!(header, kernel_header(596, 1, 0));
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].aggregate, Aggregate::Pid(WORKER));
    let t = &records[0].stats;
    assert_eq!(t.comm(), b"tw-ts-worker");
    assert_eq!(
        (t.ac_pid, t.ac_tgid, t.ac_exitcode, t.ac_flag),
        (WORKER, LEADER, 0, 0)
    );
    assert!(
        t.ac_tgetime >= t.ac_etime,
        "the group is older than the thread"
    );
    assert_eq!((t.read_char, t.write_char), (65536, 65536));
    assert_eq!(emit_stats(header, genl, &records), captured);
}

#[test]
fn exit_of_the_last_thread_carries_the_thread_and_the_group() {
    let captured = hex_file(include_str!("../testdata/taskstats/exit_last_thread.hex"));
    assert_eq!(captured.len(), 1172);
    assert_eq!(stats_offsets(&captured), [36, 612], "both 4 mod 8");
    let (header, genl, records) = stats_message(&captured);
    assert_eq!(header, kernel_header(1172, 2, 0));
    let [thread, group] = &records[..] else {
        panic!("two records: {records:?}")
    };
    assert_eq!(thread.aggregate, Aggregate::Pid(LEADER));
    assert_eq!(group.aggregate, Aggregate::Tgid(LEADER));
    let (t, g) = (&thread.stats, &group.stats);
    assert_eq!(
        (t.comm(), t.ac_pid, t.ac_tgid),
        (&b"tw-ts-threads"[..], LEADER, LEADER)
    );
    assert_eq!((t.ac_exitcode, t.ac_flag), (0, 0x20));
    // The group record sums the threads and leaves the per-task fields empty.
    assert_eq!(g.version, 16);
    assert_eq!(
        (g.comm(), g.ac_pid, g.ac_tgid, g.ac_btime64),
        (&b""[..], 0, 0, 0)
    );
    assert_eq!((g.cpu_count, g.cpu_delay_total), (19, 219_407));
    assert!(g.cpu_count > t.cpu_count && g.ac_utime >= t.ac_utime);
    assert!(g.cpu_run_virtual_total > t.cpu_run_virtual_total);
    assert!(g.ac_etime > t.ac_etime, "three threads' elapsed times");
    assert_eq!(g.delay(DelayClass::Cpu).unwrap().min_ns, Some(3916));
    assert_eq!(emit_stats(header, genl, &records), captured);
}

// ---------------------------------------------------------------------------------------
// Registration, queries and errors: requests byte-exact, answers decoded.
// ---------------------------------------------------------------------------------------

#[test]
fn register_and_deregister_are_the_requests_the_kernel_acknowledged() {
    for (sent, ack, seq, command) in [
        (
            include_str!("../testdata/taskstats/register_request.hex"),
            include_str!("../testdata/taskstats/register_ack.hex"),
            1,
            Command::RegisterCpumask("0-1".into()),
        ),
        (
            include_str!("../testdata/taskstats/deregister_request.hex"),
            include_str!("../testdata/taskstats/deregister_ack.hex"),
            2,
            Command::DeregisterCpumask("0-1".into()),
        ),
    ] {
        let built = request(seq, LISTENER_PORT, command);
        assert_eq!(built, hex_file(sent));
        let flags = netlink::Header::parse(&built).unwrap().flags;
        assert_eq!(
            flags,
            NLM_F_REQUEST | NLM_F_ACK,
            "without ACK, no answer at all"
        );
        let (header, error) = error_message(&hex_file(ack));
        // An acknowledgement: error 0, only the request's header echoed.
        assert_eq!(
            (header.kind, header.len, header.seq),
            (NLMSG_ERROR, 36, seq)
        );
        assert_eq!(error.error, 0);
        assert_eq!(error.request, netlink::Header::parse(&built).unwrap());
    }
}

#[test]
fn query_by_pid_of_a_live_thread() {
    let built = request(5, CMD_PORT, Command::GetPid(LEADER));
    assert_eq!(
        built,
        hex_file(include_str!("../testdata/taskstats/get_pid_request.hex"))
    );
    let captured = hex_file(include_str!("../testdata/taskstats/get_pid_reply.hex"));
    let (header, genl, records) = stats_message(&captured);
    // A reply carries the query's seq and portid.
    assert_eq!(header, kernel_header(596, 5, CMD_PORT));
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].aggregate, Aggregate::Pid(LEADER));
    let t = &records[0].stats;
    assert_eq!((t.comm(), t.ac_exitcode), (&b"tw-ts-threads"[..], 0));
    assert!(t.ac_etime > 0 && t.cpu_count > 0);
    assert_eq!(emit_stats(header, genl, &records), captured);
    let (_, ack) = error_message(&hex_file(include_str!(
        "../testdata/taskstats/get_pid_ack.hex"
    )));
    assert_eq!((ack.error, ack.request.seq), (0, 5));
}

#[test]
fn query_by_tgid_sums_the_live_group() {
    let built = request(6, CMD_PORT, Command::GetTgid(LEADER));
    assert_eq!(
        built,
        hex_file(include_str!("../testdata/taskstats/get_tgid_request.hex"))
    );
    let captured = hex_file(include_str!("../testdata/taskstats/get_tgid_reply.hex"));
    let (header, genl, records) = stats_message(&captured);
    assert_eq!(header, kernel_header(596, 6, CMD_PORT));
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].aggregate, Aggregate::Tgid(LEADER));
    assert_eq!(records[0].stats.cpu_count, 15);
    assert_eq!(emit_stats(header, genl, &records), captured);
    let (_, ack) = error_message(&hex_file(include_str!(
        "../testdata/taskstats/get_tgid_ack.hex"
    )));
    assert_eq!((ack.error, ack.request.seq), (0, 6));
}

#[test]
fn errors_name_the_request_they_refuse() {
    let long_list = format!("{}01", "0,".repeat(817));
    assert_eq!(
        long_list.len() + 1,
        100 + 6 * 256 + 1,
        "one byte over for NR_CPUS 256"
    );
    for (sent, reply, seq, command, errno) in [
        (
            include_str!("../testdata/taskstats/register_erange_request.hex"),
            include_str!("../testdata/taskstats/register_erange.hex"),
            2,
            Command::RegisterCpumask("0-2".into()),
            -34, // ERANGE: CPU 2 is nr_cpu_ids
        ),
        (
            include_str!("../testdata/taskstats/register_e2big_request.hex"),
            include_str!("../testdata/taskstats/register_e2big.hex"),
            3,
            Command::RegisterCpumask(long_list),
            -7, // E2BIG
        ),
        (
            include_str!("../testdata/taskstats/get_gone_request.hex"),
            include_str!("../testdata/taskstats/get_gone.hex"),
            4,
            Command::GetPid(0x7fff_fff0),
            -3, // ESRCH: the "process gone" answer
        ),
    ] {
        let built = request(seq, CMD_PORT, command);
        assert_eq!(built, hex_file(sent));
        let reply = hex_file(reply);
        let (header, error) = error_message(&reply);
        assert_eq!(
            (header.seq, header.pid, error.error),
            (seq, CMD_PORT, errno)
        );
        assert_eq!(error.request, netlink::Header::parse(&built).unwrap());
        // Errors echo the request's payload too (this socket did not set NETLINK_CAP_ACK).
        assert_eq!(reply[20..], built[..built.len().min(reply.len() - 20)]);
    }
}

// ---------------------------------------------------------------------------------------
// Other layouts and bad input, built from the captured struct.
// ---------------------------------------------------------------------------------------

/// The captured v16 struct of `EXIT_SINGLE`.
fn v16_payload() -> Vec<u8> {
    EXIT_SINGLE[36..].to_vec()
}

/// `t` laid out as version 15 did it: each class's max and min right after its total.
fn v15_bytes(t: &Taskstats) -> Vec<u8> {
    let mut b = Vec::new();
    let u64s = |b: &mut Vec<u8>, vals: &[u64]| {
        for v in vals {
            b.extend_from_slice(&v.to_ne_bytes());
        }
    };
    b.extend_from_slice(&15u16.to_ne_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&t.ac_exitcode.to_ne_bytes());
    b.extend_from_slice(&[t.ac_flag, t.ac_nice, 0, 0, 0, 0, 0, 0]);
    u64s(
        &mut b,
        &[
            t.cpu_count,
            t.cpu_delay_total,
            t.cpu_delay_max,
            t.cpu_delay_min,
        ],
    );
    u64s(
        &mut b,
        &[
            t.blkio_count,
            t.blkio_delay_total,
            t.blkio_delay_max,
            t.blkio_delay_min,
        ],
    );
    u64s(
        &mut b,
        &[
            t.swapin_count,
            t.swapin_delay_total,
            t.swapin_delay_max,
            t.swapin_delay_min,
        ],
    );
    u64s(&mut b, &[t.cpu_run_real_total, t.cpu_run_virtual_total]);
    assert_eq!(b.len(), 128);
    b.extend_from_slice(&t.ac_comm);
    b.extend_from_slice(&[t.ac_sched, 0, 0, 0, 0, 0, 0, 0]);
    for v in [t.ac_uid, t.ac_gid, t.ac_pid, t.ac_ppid, t.ac_btime, 0] {
        b.extend_from_slice(&v.to_ne_bytes());
    }
    u64s(
        &mut b,
        &[
            t.ac_etime,
            t.ac_utime,
            t.ac_stime,
            t.ac_minflt,
            t.ac_majflt,
            t.coremem,
            t.virtmem,
            t.hiwater_rss,
            t.hiwater_vm,
            t.read_char,
            t.write_char,
            t.read_syscalls,
            t.write_syscalls,
            t.read_bytes,
            t.write_bytes,
            t.cancelled_write_bytes,
            t.nvcsw,
            t.nivcsw,
            t.ac_utimescaled,
            t.ac_stimescaled,
            t.cpu_scaled_run_real_total,
        ],
    );
    assert_eq!(b.len(), 360);
    u64s(
        &mut b,
        &[
            t.freepages_count,
            t.freepages_delay_total,
            t.freepages_delay_max,
        ],
    );
    u64s(
        &mut b,
        &[
            t.freepages_delay_min,
            t.thrashing_count,
            t.thrashing_delay_total,
        ],
    );
    u64s(
        &mut b,
        &[t.thrashing_delay_max, t.thrashing_delay_min, t.ac_btime64],
    );
    u64s(
        &mut b,
        &[t.compact_count, t.compact_delay_total, t.compact_delay_max],
    );
    u64s(
        &mut b,
        &[t.compact_delay_min, u64::from(t.ac_tgid), t.ac_tgetime],
    );
    u64s(&mut b, &[t.ac_exe_dev, t.ac_exe_inode]);
    u64s(
        &mut b,
        &[
            t.wpcopy_count,
            t.wpcopy_delay_total,
            t.wpcopy_delay_max,
            t.wpcopy_delay_min,
        ],
    );
    u64s(
        &mut b,
        &[
            t.irq_count,
            t.irq_delay_total,
            t.irq_delay_max,
            t.irq_delay_min,
        ],
    );
    assert_eq!(b.len(), 560);
    b
}

#[test]
fn version_15_is_decoded_on_its_own_layout() {
    let mut t = Taskstats::parse(&v16_payload()).unwrap();
    // Give every moved field a distinct value so a misplaced read shows.
    t.cpu_delay_max = 1001;
    t.cpu_delay_min = 1002;
    t.blkio_count = 1003;
    t.swapin_delay_min = 1004;
    t.freepages_delay_max = 1005;
    t.thrashing_delay_total = 1006;
    t.compact_delay_min = 1007;
    t.wpcopy_delay_max = 1008;
    t.irq_count = 1009;
    t.irq_delay_min = 1010;
    let v15 = v15_bytes(&t);
    let decoded = Taskstats::parse(&v15).unwrap();
    let mut expected = t.clone();
    expected.version = 15;
    assert_eq!(decoded, expected);
    assert_eq!(decoded.comm(), b"tw-ts-exit7");
    let cpu = decoded.delay(DelayClass::Cpu).unwrap();
    assert_eq!(
        (cpu.max_ns, cpu.min_ns, cpu.max_at),
        (Some(1001), Some(1002), None)
    );
    let mut emitted = Vec::new();
    decoded.emit(&mut emitted);
    assert_eq!(emitted, v15);
    // Read as version 16 instead, the same bytes put max/min where blkio used to be.
    let mut as_v16 = v15.clone();
    as_v16[0] = 16;
    assert_eq!(Taskstats::parse(&as_v16).unwrap().blkio_count, 1001);
}

#[test]
fn later_versions_decode_the_known_part() {
    // A version 18 struct: v17's 688 bytes plus 24 bytes this crate does not know.
    let mut payload = v16_payload();
    payload[0] = 18;
    payload.resize(LEN_V17, 0);
    payload[560..568].copy_from_slice(&1_700_000_000i64.to_ne_bytes());
    payload[568..576].copy_from_slice(&5i64.to_ne_bytes());
    payload.extend_from_slice(&[0xee; 24]);
    let t = Taskstats::parse(&payload).unwrap();
    assert_eq!((t.version, t.len), (18, KNOWN_LEN));
    assert_eq!((t.ac_exitcode, t.comm()), (0x700, &b"tw-ts-exit7"[..]));
    let cpu = t.delay(DelayClass::Cpu).unwrap();
    assert_eq!(
        cpu.max_at,
        Some(Timespec {
            sec: 1_700_000_000,
            nsec: 5
        })
    );
    let mut emitted = Vec::new();
    t.emit(&mut emitted);
    assert_eq!(emitted, payload[..KNOWN_LEN]);

    // The same inside a datagram: attribute lengths grow, decoding does not care.
    let mut records = stats_message(&EXIT_SINGLE).2;
    records[0].stats = t;
    let mut datagram = emit_stats(kernel_header(0, 0, 0), CMD_NEW, &records);
    let len = datagram.len() as u32;
    datagram[..4].copy_from_slice(&len.to_ne_bytes());
    assert_eq!(stats_message(&datagram).2, records);
}

#[test]
fn older_versions_hide_what_they_lack() {
    // A version 13 kernel sends 416 bytes: no IRQ class, no max/min.
    let mut payload = v16_payload();
    payload.truncate(416);
    payload[0] = 13;
    let t = Taskstats::parse(&payload).unwrap();
    assert_eq!((t.version, t.len, t.cpu_delay_max), (13, 416, 0));
    assert_eq!(t.delays().len(), 7);
    assert_eq!(t.delay(DelayClass::Cpu).unwrap().max_ns, None);
    // Version 1 is the minimum: 80 bytes, three classes.
    let mut v1 = v16_payload();
    v1.truncate(MIN_LEN);
    v1[0] = 1;
    let t = Taskstats::parse(&v1).unwrap();
    assert_eq!((t.len, t.comm(), t.delays().len()), (80, &b""[..], 3));
}

#[test]
fn short_stats_payload_is_an_error_at_its_offset() {
    // The captured datagram with STATS cut to 79 bytes (lengths fixed up to match).
    let mut d = EXIT_SINGLE[..36 + 79].to_vec();
    let len = d.len();
    d[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
    d[20..22].copy_from_slice(&((len - 20) as u16).to_ne_bytes());
    d[32..34].copy_from_slice(&(4u16 + 79).to_ne_bytes());
    let err = parse_datagram(&d, FAMILY).unwrap_err();
    assert_eq!((err.what, err.offset), ("taskstats", 36));
    assert_eq!(
        err.reason,
        Reason::Truncated {
            needed: MIN_LEN,
            available: 79
        }
    );
}

#[test]
fn truncated_datagrams_are_errors_not_panics() {
    let captures = [
        include_str!("../testdata/taskstats/exit_last_thread.hex"),
        include_str!("../testdata/taskstats/getfamily_reply.hex"),
        include_str!("../testdata/taskstats/register_e2big.hex"),
    ];
    for capture in captures {
        let full = hex_file(capture);
        for cut in 0..full.len() {
            let d = &full[..cut];
            // nlmsg_len no longer fits: the walk reports it (or nothing for an empty buffer).
            assert_eq!(parse_datagram(d, FAMILY).is_err(), cut > 0, "cut at {cut}");
            // Cut only the attributes (lengths inside still claim more): errors, no panics.
            if cut > 20 {
                let _ = taskstats::records(&full[20..cut], 20);
                let _ = Family::from_attributes(&full[20..cut], 20);
            }
        }
    }
    // A nest whose inner STATS claims more than the nest holds: a bad length, not a panic.
    let mut d = EXIT_SINGLE.to_vec();
    d[32..34].copy_from_slice(&600u16.to_ne_bytes());
    let err = parse_datagram(&d, FAMILY).unwrap_err();
    assert_eq!(
        (err.what, err.offset, err.reason),
        ("nlattr.nla_len", 32, Reason::BadLength(600))
    );
}

#[test]
fn odd_lengths_and_zero_length_attributes() {
    // A NULL pad (length 4) and an odd-length unknown attribute before the nest: skipped.
    let mut attrs = Vec::new();
    emit(&mut attrs, kind::NULL, &[]);
    emit(&mut attrs, 99, &[1, 2, 3]);
    attrs.extend_from_slice(&EXIT_SINGLE[20..]);
    let records = taskstats::records(&attrs, 20).unwrap();
    assert_eq!(records, stats_message(&EXIT_SINGLE).2);
    // A zero nla_len would never advance: an error at its offset.
    let mut attrs = vec![0, 0, 4, 0];
    attrs.extend_from_slice(&EXIT_SINGLE[20..]);
    let err = taskstats::records(&attrs, 20).unwrap_err();
    assert_eq!(
        (err.what, err.offset, err.reason),
        ("nlattr.nla_len", 20, Reason::BadLength(0))
    );
    // Three stray bytes after the nest.
    let mut attrs = EXIT_SINGLE[20..].to_vec();
    attrs.extend_from_slice(&[6, 0, 0]);
    let err = taskstats::records(&attrs, 20).unwrap_err();
    assert_eq!((err.what, err.offset), ("nlattr", 20 + 576));
}
