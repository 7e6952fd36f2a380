//! Golden tests on proc connector datagrams captured from a real kernel (Linux 6.18, x86_64):
//! each decodes to an exact typed value and re-emits to the exact captured bytes.
//!
//! The captures are `testdata/cn_proc/*.hex`, made by `testdata/capture_cn_proc.py` (which
//! runs `testdata/cn_proc_trigger.c`); every array below is checked against its file.
//! Fields are native-endian, so the bytes are those of a little-endian machine.
#![cfg(target_endian = "little")]

use taskwatch_wire::connector::{self, CN_IDX_PROC, CN_VAL_PROC};
use taskwatch_wire::error::Reason;
use taskwatch_wire::listen::{McastOp, Request};
use taskwatch_wire::netlink::{self, NLMSG_DONE};
use taskwatch_wire::proc_event::{self, comm_bytes, what, EventData, Ids, ProcEvent};
use taskwatch_wire::DecodeError;

// ---------------------------------------------------------------------------------------
// Captured datagrams. Every proc connector datagram is one 76-byte netlink message:
// nlmsghdr (16) + cn_msg (20) + proc_event (16-byte header + 24-byte union, zero-padded).
// ---------------------------------------------------------------------------------------

/// The kernel's acknowledgement of the capture script's classic LISTEN (sent with cn_msg.ack
/// 0x7476). On 6.18 it carries a per-CPU seq and the real cpu, not the request's seq; only
/// `ack` (the request's + 1) ties it to the request.
#[rustfmt::skip]
const ACK: [u8; 76] = [
    // struct nlmsghdr
    0x4c, 0x00, 0x00, 0x00, // nlmsg_len = 76
    0x03, 0x00, // nlmsg_type = 3 (NLMSG_DONE)
    0x00, 0x00, // nlmsg_flags = 0
    0xf8, 0x01, 0x00, 0x00, // nlmsg_seq = 504 (= cn_msg.seq)
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid = 0 (the kernel)
    // struct cn_msg
    0x01, 0x00, 0x00, 0x00, // id.idx = 1 (CN_IDX_PROC)
    0x01, 0x00, 0x00, 0x00, // id.val = 1 (CN_VAL_PROC)
    0xf8, 0x01, 0x00, 0x00, // seq = 504 (per-CPU counter of cpu 1)
    0x77, 0x74, 0x00, 0x00, // ack = 0x7477 (the request's ack + 1)
    0x28, 0x00, // len = 40 (sizeof(struct proc_event))
    0x00, 0x00, // flags = 0
    // struct proc_event
    0x00, 0x00, 0x00, 0x00, // what = 0x0 (PROC_EVENT_NONE)
    0x01, 0x00, 0x00, 0x00, // cpu = 1
    0x9c, 0xb2, 0x72, 0x42, 0x43, 0x00, 0x00, 0x00, // timestamp_ns = 288877621916
    0x00, 0x00, 0x00, 0x00, // ack.err = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // union padding (zero)
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // union padding (zero)
    0x00, 0x00, 0x00, 0x00, // union padding (zero)
];

/// The capture script (6830) forked the trigger (6884).
#[rustfmt::skip]
const FORK: [u8; 76] = [
    // struct nlmsghdr
    0x4c, 0x00, 0x00, 0x00, // nlmsg_len = 76
    0x03, 0x00, // nlmsg_type = 3 (NLMSG_DONE)
    0x00, 0x00, // nlmsg_flags = 0
    0xec, 0x01, 0x00, 0x00, // nlmsg_seq = 492 (= cn_msg.seq)
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid = 0 (the kernel)
    // struct cn_msg
    0x01, 0x00, 0x00, 0x00, // id.idx = 1 (CN_IDX_PROC)
    0x01, 0x00, 0x00, 0x00, // id.val = 1 (CN_VAL_PROC)
    0xec, 0x01, 0x00, 0x00, // seq = 492 (per-CPU counter of cpu 0)
    0x00, 0x00, 0x00, 0x00, // ack = 0
    0x28, 0x00, // len = 40 (sizeof(struct proc_event))
    0x00, 0x00, // flags = 0
    // struct proc_event
    0x01, 0x00, 0x00, 0x00, // what = 0x1 (PROC_EVENT_FORK)
    0x00, 0x00, 0x00, 0x00, // cpu = 0
    0x94, 0x26, 0xd0, 0x64, 0x43, 0x00, 0x00, 0x00, // timestamp_ns = 289454171796
    0xae, 0x1a, 0x00, 0x00, // fork.parent_pid = 6830
    0xae, 0x1a, 0x00, 0x00, // fork.parent_tgid = 6830
    0xe4, 0x1a, 0x00, 0x00, // fork.child_pid = 6884
    0xe4, 0x1a, 0x00, 0x00, // fork.child_tgid = 6884
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // union padding (zero)
];

/// The trigger (6884) created a thread (6885): the parent fields are the process's real
/// parent (the capture script), not the creating thread.
#[rustfmt::skip]
const FORK_THREAD: [u8; 76] = [
    // struct nlmsghdr
    0x4c, 0x00, 0x00, 0x00, // nlmsg_len = 76
    0x03, 0x00, // nlmsg_type = 3 (NLMSG_DONE)
    0x00, 0x00, // nlmsg_flags = 0
    0xef, 0x01, 0x00, 0x00, // nlmsg_seq = 495 (= cn_msg.seq)
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid = 0 (the kernel)
    // struct cn_msg
    0x01, 0x00, 0x00, 0x00, // id.idx = 1 (CN_IDX_PROC)
    0x01, 0x00, 0x00, 0x00, // id.val = 1 (CN_VAL_PROC)
    0xef, 0x01, 0x00, 0x00, // seq = 495 (per-CPU counter of cpu 0)
    0x00, 0x00, 0x00, 0x00, // ack = 0
    0x28, 0x00, // len = 40 (sizeof(struct proc_event))
    0x00, 0x00, // flags = 0
    // struct proc_event
    0x01, 0x00, 0x00, 0x00, // what = 0x1 (PROC_EVENT_FORK)
    0x00, 0x00, 0x00, 0x00, // cpu = 0
    0x30, 0x63, 0xeb, 0x64, 0x43, 0x00, 0x00, 0x00, // timestamp_ns = 289455956784
    0xae, 0x1a, 0x00, 0x00, // fork.parent_pid = 6830
    0xae, 0x1a, 0x00, 0x00, // fork.parent_tgid = 6830
    0xe5, 0x1a, 0x00, 0x00, // fork.child_pid = 6885
    0xe4, 0x1a, 0x00, 0x00, // fork.child_tgid = 6884
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // union padding (zero)
];

/// The trigger was exec'd: pid/tgid only, no path.
#[rustfmt::skip]
const EXEC: [u8; 76] = [
    // struct nlmsghdr
    0x4c, 0x00, 0x00, 0x00, // nlmsg_len = 76
    0x03, 0x00, // nlmsg_type = 3 (NLMSG_DONE)
    0x00, 0x00, // nlmsg_flags = 0
    0xed, 0x01, 0x00, 0x00, // nlmsg_seq = 493 (= cn_msg.seq)
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid = 0 (the kernel)
    // struct cn_msg
    0x01, 0x00, 0x00, 0x00, // id.idx = 1 (CN_IDX_PROC)
    0x01, 0x00, 0x00, 0x00, // id.val = 1 (CN_VAL_PROC)
    0xed, 0x01, 0x00, 0x00, // seq = 493 (per-CPU counter of cpu 0)
    0x00, 0x00, 0x00, 0x00, // ack = 0
    0x28, 0x00, // len = 40 (sizeof(struct proc_event))
    0x00, 0x00, // flags = 0
    // struct proc_event
    0x02, 0x00, 0x00, 0x00, // what = 0x2 (PROC_EVENT_EXEC)
    0x00, 0x00, 0x00, 0x00, // cpu = 0
    0x8f, 0x49, 0xe4, 0x64, 0x43, 0x00, 0x00, 0x00, // timestamp_ns = 289455491471
    0xe4, 0x1a, 0x00, 0x00, // exec.process_pid = 6884
    0xe4, 0x1a, 0x00, 0x00, // exec.process_tgid = 6884
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // union padding (zero)
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // union padding (zero)
];

/// The trigger called prctl(PR_SET_NAME, "tw-golden").
#[rustfmt::skip]
const COMM: [u8; 76] = [
    // struct nlmsghdr
    0x4c, 0x00, 0x00, 0x00, // nlmsg_len = 76
    0x03, 0x00, // nlmsg_type = 3 (NLMSG_DONE)
    0x00, 0x00, // nlmsg_flags = 0
    0xee, 0x01, 0x00, 0x00, // nlmsg_seq = 494 (= cn_msg.seq)
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid = 0 (the kernel)
    // struct cn_msg
    0x01, 0x00, 0x00, 0x00, // id.idx = 1 (CN_IDX_PROC)
    0x01, 0x00, 0x00, 0x00, // id.val = 1 (CN_VAL_PROC)
    0xee, 0x01, 0x00, 0x00, // seq = 494 (per-CPU counter of cpu 0)
    0x00, 0x00, 0x00, 0x00, // ack = 0
    0x28, 0x00, // len = 40 (sizeof(struct proc_event))
    0x00, 0x00, // flags = 0
    // struct proc_event
    0x00, 0x02, 0x00, 0x00, // what = 0x200 (PROC_EVENT_COMM)
    0x00, 0x00, 0x00, 0x00, // cpu = 0
    0x2a, 0x9b, 0xea, 0x64, 0x43, 0x00, 0x00, 0x00, // timestamp_ns = 289455905578
    0xe4, 0x1a, 0x00, 0x00, // comm.process_pid = 6884
    0xe4, 0x1a, 0x00, 0x00, // comm.process_tgid = 6884
    0x74, 0x77, 0x2d, 0x67, 0x6f, 0x6c, 0x64, 0x65, // comm.comm[0..8] = "tw-golde"
    0x6e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // comm.comm[8..16] = "n", NUL padding
];

/// The thread 6885 returned: exit_signal -1, and the parent fields are 0 for a thread.
#[rustfmt::skip]
const EXIT_THREAD: [u8; 76] = [
    // struct nlmsghdr
    0x4c, 0x00, 0x00, 0x00, // nlmsg_len = 76
    0x03, 0x00, // nlmsg_type = 3 (NLMSG_DONE)
    0x00, 0x00, // nlmsg_flags = 0
    0xf0, 0x01, 0x00, 0x00, // nlmsg_seq = 496 (= cn_msg.seq)
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid = 0 (the kernel)
    // struct cn_msg
    0x01, 0x00, 0x00, 0x00, // id.idx = 1 (CN_IDX_PROC)
    0x01, 0x00, 0x00, 0x00, // id.val = 1 (CN_VAL_PROC)
    0xf0, 0x01, 0x00, 0x00, // seq = 496 (per-CPU counter of cpu 0)
    0x00, 0x00, 0x00, 0x00, // ack = 0
    0x28, 0x00, // len = 40 (sizeof(struct proc_event))
    0x00, 0x00, // flags = 0
    // struct proc_event
    0x00, 0x00, 0x00, 0x80, // what = 0x80000000 (PROC_EVENT_EXIT)
    0x00, 0x00, 0x00, 0x00, // cpu = 0
    0xb6, 0xf6, 0xeb, 0x64, 0x43, 0x00, 0x00, 0x00, // timestamp_ns = 289455994550
    0xe5, 0x1a, 0x00, 0x00, // exit.process_pid = 6885
    0xe4, 0x1a, 0x00, 0x00, // exit.process_tgid = 6884
    0x00, 0x00, 0x00, 0x00, // exit.exit_code = 0x0
    0xff, 0xff, 0xff, 0xff, // exit.exit_signal = -1
    0x00, 0x00, 0x00, 0x00, // exit.parent_pid = 0
    0x00, 0x00, 0x00, 0x00, // exit.parent_tgid = 0
];

/// The trigger did PTRACE_ATTACH to its child 6886.
#[rustfmt::skip]
const PTRACE_ATTACH: [u8; 76] = [
    // struct nlmsghdr
    0x4c, 0x00, 0x00, 0x00, // nlmsg_len = 76
    0x03, 0x00, // nlmsg_type = 3 (NLMSG_DONE)
    0x00, 0x00, // nlmsg_flags = 0
    0xf2, 0x01, 0x00, 0x00, // nlmsg_seq = 498 (= cn_msg.seq)
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid = 0 (the kernel)
    // struct cn_msg
    0x01, 0x00, 0x00, 0x00, // id.idx = 1 (CN_IDX_PROC)
    0x01, 0x00, 0x00, 0x00, // id.val = 1 (CN_VAL_PROC)
    0xf2, 0x01, 0x00, 0x00, // seq = 498 (per-CPU counter of cpu 0)
    0x00, 0x00, 0x00, 0x00, // ack = 0
    0x28, 0x00, // len = 40 (sizeof(struct proc_event))
    0x00, 0x00, // flags = 0
    // struct proc_event
    0x00, 0x01, 0x00, 0x00, // what = 0x100 (PROC_EVENT_PTRACE)
    0x00, 0x00, 0x00, 0x00, // cpu = 0
    0xa1, 0x7e, 0xee, 0x64, 0x43, 0x00, 0x00, 0x00, // timestamp_ns = 289456160417
    0xe6, 0x1a, 0x00, 0x00, // ptrace.process_pid = 6886
    0xe6, 0x1a, 0x00, 0x00, // ptrace.process_tgid = 6886
    0xe4, 0x1a, 0x00, 0x00, // ptrace.tracer_pid = 6884
    0xe4, 0x1a, 0x00, 0x00, // ptrace.tracer_tgid = 6884
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // union padding (zero)
];

/// The trigger did PTRACE_DETACH from 6886: tracer fields 0.
#[rustfmt::skip]
const PTRACE_DETACH: [u8; 76] = [
    // struct nlmsghdr
    0x4c, 0x00, 0x00, 0x00, // nlmsg_len = 76
    0x03, 0x00, // nlmsg_type = 3 (NLMSG_DONE)
    0x00, 0x00, // nlmsg_flags = 0
    0xf3, 0x01, 0x00, 0x00, // nlmsg_seq = 499 (= cn_msg.seq)
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid = 0 (the kernel)
    // struct cn_msg
    0x01, 0x00, 0x00, 0x00, // id.idx = 1 (CN_IDX_PROC)
    0x01, 0x00, 0x00, 0x00, // id.val = 1 (CN_VAL_PROC)
    0xf3, 0x01, 0x00, 0x00, // seq = 499 (per-CPU counter of cpu 0)
    0x00, 0x00, 0x00, 0x00, // ack = 0
    0x28, 0x00, // len = 40 (sizeof(struct proc_event))
    0x00, 0x00, // flags = 0
    // struct proc_event
    0x00, 0x01, 0x00, 0x00, // what = 0x100 (PROC_EVENT_PTRACE)
    0x00, 0x00, 0x00, 0x00, // cpu = 0
    0xab, 0xd7, 0xee, 0x64, 0x43, 0x00, 0x00, 0x00, // timestamp_ns = 289456183211
    0xe6, 0x1a, 0x00, 0x00, // ptrace.process_pid = 6886
    0xe6, 0x1a, 0x00, 0x00, // ptrace.process_tgid = 6886
    0x00, 0x00, 0x00, 0x00, // ptrace.tracer_pid = 0
    0x00, 0x00, 0x00, 0x00, // ptrace.tracer_tgid = 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // union padding (zero)
];

/// The non-dumpable child 6887 called abort(): the event is sent though no core is written.
#[rustfmt::skip]
const COREDUMP: [u8; 76] = [
    // struct nlmsghdr
    0x4c, 0x00, 0x00, 0x00, // nlmsg_len = 76
    0x03, 0x00, // nlmsg_type = 3 (NLMSG_DONE)
    0x00, 0x00, // nlmsg_flags = 0
    0xf5, 0x01, 0x00, 0x00, // nlmsg_seq = 501 (= cn_msg.seq)
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid = 0 (the kernel)
    // struct cn_msg
    0x01, 0x00, 0x00, 0x00, // id.idx = 1 (CN_IDX_PROC)
    0x01, 0x00, 0x00, 0x00, // id.val = 1 (CN_VAL_PROC)
    0xf5, 0x01, 0x00, 0x00, // seq = 501 (per-CPU counter of cpu 0)
    0x00, 0x00, 0x00, 0x00, // ack = 0
    0x28, 0x00, // len = 40 (sizeof(struct proc_event))
    0x00, 0x00, // flags = 0
    // struct proc_event
    0x00, 0x00, 0x00, 0x40, // what = 0x40000000 (PROC_EVENT_COREDUMP)
    0x00, 0x00, 0x00, 0x00, // cpu = 0
    0xe4, 0x20, 0xf3, 0x64, 0x43, 0x00, 0x00, 0x00, // timestamp_ns = 289456464100
    0xe7, 0x1a, 0x00, 0x00, // coredump.process_pid = 6887
    0xe7, 0x1a, 0x00, 0x00, // coredump.process_tgid = 6887
    0xe4, 0x1a, 0x00, 0x00, // coredump.parent_pid = 6884
    0xe4, 0x1a, 0x00, 0x00, // coredump.parent_tgid = 6884
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // union padding (zero)
];

/// 6887 died of SIGABRT: exit_code is the raw wait status 6 (core-dumped bit 0x80 clear).
#[rustfmt::skip]
const EXIT_SIGNALED: [u8; 76] = [
    // struct nlmsghdr
    0x4c, 0x00, 0x00, 0x00, // nlmsg_len = 76
    0x03, 0x00, // nlmsg_type = 3 (NLMSG_DONE)
    0x00, 0x00, // nlmsg_flags = 0
    0xf6, 0x01, 0x00, 0x00, // nlmsg_seq = 502 (= cn_msg.seq)
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid = 0 (the kernel)
    // struct cn_msg
    0x01, 0x00, 0x00, 0x00, // id.idx = 1 (CN_IDX_PROC)
    0x01, 0x00, 0x00, 0x00, // id.val = 1 (CN_VAL_PROC)
    0xf6, 0x01, 0x00, 0x00, // seq = 502 (per-CPU counter of cpu 0)
    0x00, 0x00, 0x00, 0x00, // ack = 0
    0x28, 0x00, // len = 40 (sizeof(struct proc_event))
    0x00, 0x00, // flags = 0
    // struct proc_event
    0x00, 0x00, 0x00, 0x80, // what = 0x80000000 (PROC_EVENT_EXIT)
    0x00, 0x00, 0x00, 0x00, // cpu = 0
    0x2e, 0xe4, 0xf3, 0x64, 0x43, 0x00, 0x00, 0x00, // timestamp_ns = 289456514094
    0xe7, 0x1a, 0x00, 0x00, // exit.process_pid = 6887
    0xe7, 0x1a, 0x00, 0x00, // exit.process_tgid = 6887
    0x06, 0x00, 0x00, 0x00, // exit.exit_code = 0x6
    0x11, 0x00, 0x00, 0x00, // exit.exit_signal = 17
    0xe4, 0x1a, 0x00, 0x00, // exit.parent_pid = 6884
    0xe4, 0x1a, 0x00, 0x00, // exit.parent_tgid = 6884
];

/// The trigger called setsid().
#[rustfmt::skip]
const SID: [u8; 76] = [
    // struct nlmsghdr
    0x4c, 0x00, 0x00, 0x00, // nlmsg_len = 76
    0x03, 0x00, // nlmsg_type = 3 (NLMSG_DONE)
    0x00, 0x00, // nlmsg_flags = 0
    0xf7, 0x01, 0x00, 0x00, // nlmsg_seq = 503 (= cn_msg.seq)
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid = 0 (the kernel)
    // struct cn_msg
    0x01, 0x00, 0x00, 0x00, // id.idx = 1 (CN_IDX_PROC)
    0x01, 0x00, 0x00, 0x00, // id.val = 1 (CN_VAL_PROC)
    0xf7, 0x01, 0x00, 0x00, // seq = 503 (per-CPU counter of cpu 0)
    0x00, 0x00, 0x00, 0x00, // ack = 0
    0x28, 0x00, // len = 40 (sizeof(struct proc_event))
    0x00, 0x00, // flags = 0
    // struct proc_event
    0x80, 0x00, 0x00, 0x00, // what = 0x80 (PROC_EVENT_SID)
    0x00, 0x00, 0x00, 0x00, // cpu = 0
    0x4d, 0x1b, 0xf4, 0x64, 0x43, 0x00, 0x00, 0x00, // timestamp_ns = 289456528205
    0xe4, 0x1a, 0x00, 0x00, // sid.process_pid = 6884
    0xe4, 0x1a, 0x00, 0x00, // sid.process_tgid = 6884
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // union padding (zero)
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // union padding (zero)
];

/// The trigger called setresgid(65534, 65534, 65534).
#[rustfmt::skip]
const GID: [u8; 76] = [
    // struct nlmsghdr
    0x4c, 0x00, 0x00, 0x00, // nlmsg_len = 76
    0x03, 0x00, // nlmsg_type = 3 (NLMSG_DONE)
    0x00, 0x00, // nlmsg_flags = 0
    0xf8, 0x01, 0x00, 0x00, // nlmsg_seq = 504 (= cn_msg.seq)
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid = 0 (the kernel)
    // struct cn_msg
    0x01, 0x00, 0x00, 0x00, // id.idx = 1 (CN_IDX_PROC)
    0x01, 0x00, 0x00, 0x00, // id.val = 1 (CN_VAL_PROC)
    0xf8, 0x01, 0x00, 0x00, // seq = 504 (per-CPU counter of cpu 0)
    0x00, 0x00, 0x00, 0x00, // ack = 0
    0x28, 0x00, // len = 40 (sizeof(struct proc_event))
    0x00, 0x00, // flags = 0
    // struct proc_event
    0x40, 0x00, 0x00, 0x00, // what = 0x40 (PROC_EVENT_GID)
    0x00, 0x00, 0x00, 0x00, // cpu = 0
    0xf8, 0x52, 0xf4, 0x64, 0x43, 0x00, 0x00, 0x00, // timestamp_ns = 289456542456
    0xe4, 0x1a, 0x00, 0x00, // id.process_pid = 6884
    0xe4, 0x1a, 0x00, 0x00, // id.process_tgid = 6884
    0xfe, 0xff, 0x00, 0x00, // id.r.rgid = 65534
    0xfe, 0xff, 0x00, 0x00, // id.e.egid = 65534
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // union padding (zero)
];

/// The trigger called setresuid(65534, 65534, 65534).
#[rustfmt::skip]
const UID: [u8; 76] = [
    // struct nlmsghdr
    0x4c, 0x00, 0x00, 0x00, // nlmsg_len = 76
    0x03, 0x00, // nlmsg_type = 3 (NLMSG_DONE)
    0x00, 0x00, // nlmsg_flags = 0
    0xf9, 0x01, 0x00, 0x00, // nlmsg_seq = 505 (= cn_msg.seq)
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid = 0 (the kernel)
    // struct cn_msg
    0x01, 0x00, 0x00, 0x00, // id.idx = 1 (CN_IDX_PROC)
    0x01, 0x00, 0x00, 0x00, // id.val = 1 (CN_VAL_PROC)
    0xf9, 0x01, 0x00, 0x00, // seq = 505 (per-CPU counter of cpu 0)
    0x00, 0x00, 0x00, 0x00, // ack = 0
    0x28, 0x00, // len = 40 (sizeof(struct proc_event))
    0x00, 0x00, // flags = 0
    // struct proc_event
    0x04, 0x00, 0x00, 0x00, // what = 0x4 (PROC_EVENT_UID)
    0x00, 0x00, 0x00, 0x00, // cpu = 0
    0x9e, 0x6b, 0xf4, 0x64, 0x43, 0x00, 0x00, 0x00, // timestamp_ns = 289456548766
    0xe4, 0x1a, 0x00, 0x00, // id.process_pid = 6884
    0xe4, 0x1a, 0x00, 0x00, // id.process_tgid = 6884
    0xfe, 0xff, 0x00, 0x00, // id.r.ruid = 65534
    0xfe, 0xff, 0x00, 0x00, // id.e.euid = 65534
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // union padding (zero)
];

/// The trigger called exit(3): exit_code is the raw wait status 3 << 8, exit_signal SIGCHLD.
#[rustfmt::skip]
const EXIT_CODE: [u8; 76] = [
    // struct nlmsghdr
    0x4c, 0x00, 0x00, 0x00, // nlmsg_len = 76
    0x03, 0x00, // nlmsg_type = 3 (NLMSG_DONE)
    0x00, 0x00, // nlmsg_flags = 0
    0xfa, 0x01, 0x00, 0x00, // nlmsg_seq = 506 (= cn_msg.seq)
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid = 0 (the kernel)
    // struct cn_msg
    0x01, 0x00, 0x00, 0x00, // id.idx = 1 (CN_IDX_PROC)
    0x01, 0x00, 0x00, 0x00, // id.val = 1 (CN_VAL_PROC)
    0xfa, 0x01, 0x00, 0x00, // seq = 506 (per-CPU counter of cpu 0)
    0x00, 0x00, 0x00, 0x00, // ack = 0
    0x28, 0x00, // len = 40 (sizeof(struct proc_event))
    0x00, 0x00, // flags = 0
    // struct proc_event
    0x00, 0x00, 0x00, 0x80, // what = 0x80000000 (PROC_EVENT_EXIT)
    0x00, 0x00, 0x00, 0x00, // cpu = 0
    0x64, 0x52, 0xf5, 0x64, 0x43, 0x00, 0x00, 0x00, // timestamp_ns = 289456607844
    0xe4, 0x1a, 0x00, 0x00, // exit.process_pid = 6884
    0xe4, 0x1a, 0x00, 0x00, // exit.process_tgid = 6884
    0x00, 0x03, 0x00, 0x00, // exit.exit_code = 0x300
    0x11, 0x00, 0x00, 0x00, // exit.exit_signal = 17
    0xae, 0x1a, 0x00, 0x00, // exit.parent_pid = 6830
    0xae, 0x1a, 0x00, 0x00, // exit.parent_tgid = 6830
];

// ---------------------------------------------------------------------------------------
// Helpers
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

fn ids(pid: u32, tgid: u32) -> Ids {
    Ids { pid, tgid }
}

/// The netlink header the kernel puts on every proc connector message.
fn kernel_nlmsghdr(seq: u32) -> netlink::Header {
    netlink::Header {
        len: 76,
        kind: NLMSG_DONE,
        flags: 0,
        seq,
        pid: 0,
    }
}

/// The connector header of a proc connector message.
fn kernel_cn_msg(seq: u32, ack: u32) -> connector::Header {
    connector::Header {
        idx: CN_IDX_PROC,
        val: CN_VAL_PROC,
        seq,
        ack,
        len: 40,
        flags: 0,
    }
}

/// Walks a datagram down to its one proc event, as a listener does.
fn decode(datagram: &[u8]) -> Result<(netlink::Header, connector::Header, ProcEvent), DecodeError> {
    let mut messages = netlink::messages(datagram);
    let message = messages
        .next()
        .expect("a non-empty datagram yields a message or an error")?;
    assert!(
        messages.next().is_none(),
        "the connector sends one message per datagram"
    );
    let cn = connector::Message::parse(message.payload)?;
    Ok((message.header, cn.header, ProcEvent::parse(cn.data)?))
}

/// The golden check: the array is the capture file, parses to exactly `event` under exactly
/// these headers, and emitting the typed values gives back the captured bytes.
fn golden(
    captured: &[u8; 76],
    file: &str,
    nl: netlink::Header,
    cn: connector::Header,
    event: ProcEvent,
) {
    assert_eq!(
        captured.as_slice(),
        hex_file(file),
        "the array differs from its testdata file"
    );

    let message = netlink::messages(captured).next().unwrap().unwrap();
    assert_eq!(message.offset, 0);
    assert_eq!(message.header, nl);
    assert_eq!(
        message.payload.len(),
        connector::HEADER_LEN + proc_event::LEN
    );
    let cn_message = connector::Message::parse(message.payload).unwrap();
    assert_eq!(cn_message.header, cn);
    assert_eq!(cn_message.data, &captured[36..]);
    assert_eq!(ProcEvent::parse(cn_message.data).unwrap(), event);
    assert_eq!(decode(captured).unwrap(), (nl, cn, event));

    let mut emitted = Vec::new();
    nl.emit(&mut emitted);
    cn.emit(&mut emitted);
    event.emit(&mut emitted);
    assert_eq!(
        emitted,
        captured.as_slice(),
        "emit does not reproduce the capture"
    );
}

/// Every capture with the number of `proc_event` bytes its kind needs to decode.
const ALL: [(&str, &[u8; 76], usize); 14] = [
    ("ack", &ACK, 20),
    ("fork", &FORK, 32),
    ("fork_thread", &FORK_THREAD, 32),
    ("exec", &EXEC, 24),
    ("comm", &COMM, 40),
    ("exit_thread", &EXIT_THREAD, 40),
    ("ptrace_attach", &PTRACE_ATTACH, 32),
    ("ptrace_detach", &PTRACE_DETACH, 32),
    ("coredump", &COREDUMP, 32),
    ("exit_signaled", &EXIT_SIGNALED, 40),
    ("sid", &SID, 24),
    ("gid", &GID, 32),
    ("uid", &UID, 32),
    ("exit_code", &EXIT_CODE, 40),
];

// ---------------------------------------------------------------------------------------
// One golden test per captured kind
// ---------------------------------------------------------------------------------------

#[test]
fn ack_of_a_classic_listen() {
    golden(
        &ACK,
        include_str!("../testdata/cn_proc/ack.hex"),
        kernel_nlmsghdr(504),
        kernel_cn_msg(504, 0x7477),
        ProcEvent {
            cpu: 1,
            timestamp_ns: 288_877_621_916,
            data: EventData::Ack { err: 0 },
        },
    );
}

#[test]
fn fork_of_a_process() {
    golden(
        &FORK,
        include_str!("../testdata/cn_proc/fork.hex"),
        kernel_nlmsghdr(492),
        kernel_cn_msg(492, 0),
        ProcEvent {
            cpu: 0,
            timestamp_ns: 289_454_171_796,
            data: EventData::Fork {
                parent: ids(6830, 6830),
                child: ids(6884, 6884),
            },
        },
    );
}

#[test]
fn fork_of_a_thread_names_the_real_parent() {
    golden(
        &FORK_THREAD,
        include_str!("../testdata/cn_proc/fork_thread.hex"),
        kernel_nlmsghdr(495),
        kernel_cn_msg(495, 0),
        ProcEvent {
            cpu: 0,
            timestamp_ns: 289_455_956_784,
            data: EventData::Fork {
                parent: ids(6830, 6830),
                child: ids(6885, 6884),
            },
        },
    );
}

#[test]
fn exec() {
    golden(
        &EXEC,
        include_str!("../testdata/cn_proc/exec.hex"),
        kernel_nlmsghdr(493),
        kernel_cn_msg(493, 0),
        ProcEvent {
            cpu: 0,
            timestamp_ns: 289_455_491_471,
            data: EventData::Exec {
                task: ids(6884, 6884),
            },
        },
    );
}

#[test]
fn comm_change() {
    let comm = *b"tw-golden\0\0\0\0\0\0\0";
    golden(
        &COMM,
        include_str!("../testdata/cn_proc/comm.hex"),
        kernel_nlmsghdr(494),
        kernel_cn_msg(494, 0),
        ProcEvent {
            cpu: 0,
            timestamp_ns: 289_455_905_578,
            data: EventData::Comm {
                task: ids(6884, 6884),
                comm,
            },
        },
    );
    assert_eq!(comm_bytes(&comm), b"tw-golden");
}

#[test]
fn exit_of_a_thread() {
    golden(
        &EXIT_THREAD,
        include_str!("../testdata/cn_proc/exit_thread.hex"),
        kernel_nlmsghdr(496),
        kernel_cn_msg(496, 0),
        ProcEvent {
            cpu: 0,
            timestamp_ns: 289_455_994_550,
            data: EventData::Exit {
                task: ids(6885, 6884),
                exit_code: 0,
                exit_signal: -1,
                parent: ids(0, 0),
            },
        },
    );
}

#[test]
fn ptrace_attach() {
    golden(
        &PTRACE_ATTACH,
        include_str!("../testdata/cn_proc/ptrace_attach.hex"),
        kernel_nlmsghdr(498),
        kernel_cn_msg(498, 0),
        ProcEvent {
            cpu: 0,
            timestamp_ns: 289_456_160_417,
            data: EventData::Ptrace {
                task: ids(6886, 6886),
                tracer: ids(6884, 6884),
            },
        },
    );
}

#[test]
fn ptrace_detach_has_a_zero_tracer() {
    golden(
        &PTRACE_DETACH,
        include_str!("../testdata/cn_proc/ptrace_detach.hex"),
        kernel_nlmsghdr(499),
        kernel_cn_msg(499, 0),
        ProcEvent {
            cpu: 0,
            timestamp_ns: 289_456_183_211,
            data: EventData::Ptrace {
                task: ids(6886, 6886),
                tracer: ids(0, 0),
            },
        },
    );
}

#[test]
fn coredump_without_a_core_file() {
    golden(
        &COREDUMP,
        include_str!("../testdata/cn_proc/coredump.hex"),
        kernel_nlmsghdr(501),
        kernel_cn_msg(501, 0),
        ProcEvent {
            cpu: 0,
            timestamp_ns: 289_456_464_100,
            data: EventData::Coredump {
                task: ids(6887, 6887),
                parent: ids(6884, 6884),
            },
        },
    );
}

#[test]
fn exit_by_a_signal_keeps_the_raw_wait_status() {
    const SIGABRT: u32 = 6;
    golden(
        &EXIT_SIGNALED,
        include_str!("../testdata/cn_proc/exit_signaled.hex"),
        kernel_nlmsghdr(502),
        kernel_cn_msg(502, 0),
        ProcEvent {
            cpu: 0,
            timestamp_ns: 289_456_514_094,
            data: EventData::Exit {
                task: ids(6887, 6887),
                exit_code: SIGABRT,
                exit_signal: 17,
                parent: ids(6884, 6884),
            },
        },
    );
}

#[test]
fn setsid() {
    golden(
        &SID,
        include_str!("../testdata/cn_proc/sid.hex"),
        kernel_nlmsghdr(503),
        kernel_cn_msg(503, 0),
        ProcEvent {
            cpu: 0,
            timestamp_ns: 289_456_528_205,
            data: EventData::Sid {
                task: ids(6884, 6884),
            },
        },
    );
}

#[test]
fn gid_change() {
    golden(
        &GID,
        include_str!("../testdata/cn_proc/gid.hex"),
        kernel_nlmsghdr(504),
        kernel_cn_msg(504, 0),
        ProcEvent {
            cpu: 0,
            timestamp_ns: 289_456_542_456,
            data: EventData::Gid {
                task: ids(6884, 6884),
                rgid: 65534,
                egid: 65534,
            },
        },
    );
}

#[test]
fn uid_change() {
    golden(
        &UID,
        include_str!("../testdata/cn_proc/uid.hex"),
        kernel_nlmsghdr(505),
        kernel_cn_msg(505, 0),
        ProcEvent {
            cpu: 0,
            timestamp_ns: 289_456_548_766,
            data: EventData::Uid {
                task: ids(6884, 6884),
                ruid: 65534,
                euid: 65534,
            },
        },
    );
}

#[test]
fn exit_with_a_code_keeps_the_raw_wait_status() {
    golden(
        &EXIT_CODE,
        include_str!("../testdata/cn_proc/exit_code.hex"),
        kernel_nlmsghdr(506),
        kernel_cn_msg(506, 0),
        ProcEvent {
            cpu: 0,
            timestamp_ns: 289_456_607_844,
            data: EventData::Exit {
                task: ids(6884, 6884),
                exit_code: 3 << 8,
                exit_signal: 17,
                parent: ids(6830, 6830),
            },
        },
    );
}

#[test]
fn every_capture_is_one_message_whose_two_seqs_agree() {
    for (name, captured, _) in ALL {
        let (nl, cn, _) = decode(captured).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(nl.seq, cn.seq, "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// Unknown kinds and damaged input
// ---------------------------------------------------------------------------------------

#[test]
fn unknown_what_is_kept_with_its_header() {
    for unknown in [0x0800_0000u32, what::NONZERO_EXIT, 0x8000_0001, 0x3] {
        let mut datagram = EXEC;
        datagram[36..40].copy_from_slice(&unknown.to_ne_bytes());
        let (nl, cn, event) = decode(&datagram).unwrap();
        assert_eq!(
            event,
            ProcEvent {
                cpu: 0,
                timestamp_ns: 289_455_491_471,
                data: EventData::Unknown { what: unknown }
            }
        );
        assert_eq!(event.data.what(), unknown);

        // Emitting keeps the header and zeroes the union it cannot know.
        let mut emitted = Vec::new();
        nl.emit(&mut emitted);
        cn.emit(&mut emitted);
        event.emit(&mut emitted);
        let mut expected = datagram;
        expected[52..].fill(0);
        assert_eq!(emitted, expected);
        assert_eq!(decode(&emitted).unwrap().2, event);
    }
}

#[test]
fn truncated_datagrams_are_errors_not_panics() {
    assert!(
        netlink::messages(&[]).next().is_none(),
        "an empty datagram holds no message"
    );
    for (name, captured, _) in ALL {
        for cut in 1..captured.len() {
            let err = decode(&captured[..cut]).expect_err(name);
            assert!(err.what.starts_with("nlmsghdr."), "{name}[..{cut}]: {err}");
            if cut < netlink::HEADER_LEN {
                assert!(
                    matches!(err.reason, Reason::Truncated { .. }),
                    "{name}[..{cut}]: {err}"
                );
            } else {
                // The header is whole but claims 76 bytes.
                assert_eq!(err.what, "nlmsghdr.nlmsg_len");
                assert_eq!(err.reason, Reason::BadLength(76), "{name}[..{cut}]");
            }
        }
    }
}

#[test]
fn truncated_connector_payload_is_an_error() {
    for (name, captured, _) in ALL {
        for cut in netlink::HEADER_LEN..captured.len() {
            // A consistent netlink message whose payload is too short for cn_msg + data.
            let mut datagram = captured[..cut].to_vec();
            datagram[..4].copy_from_slice(&(cut as u32).to_ne_bytes());
            let err = decode(&datagram).expect_err(name);
            let expected = if cut < netlink::HEADER_LEN + connector::HEADER_LEN {
                "cn_msg."
            } else {
                "cn_msg.data"
            };
            assert!(err.what.starts_with(expected), "{name}[..{cut}]: {err}");
        }
    }
}

#[test]
fn truncated_proc_event_needs_only_the_bytes_of_its_kind() {
    for (name, captured, needed) in ALL {
        let data = &captured[36..];
        let whole = ProcEvent::parse(data).unwrap();
        for cut in 0..data.len() {
            match ProcEvent::parse(&data[..cut]) {
                Ok(event) => {
                    assert!(cut >= needed, "{name}: parsed from {cut} bytes");
                    assert_eq!(event, whole, "{name}[..{cut}]");
                }
                Err(err) => {
                    assert!(cut < needed, "{name}[..{cut}]: {err}");
                    assert!(
                        err.what.starts_with("proc_event."),
                        "{name}[..{cut}]: {err}"
                    );
                    assert!(err.offset < needed, "{name}[..{cut}]: {err}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The requests a listener sends (listen.rs), byte by byte
// ---------------------------------------------------------------------------------------

#[test]
fn classic_listen_request_is_the_one_the_capture_sent() {
    // The capture script's request; the kernel's ack (ACK above) carries ack + 1 = 0x7477.
    let request = Request {
        op: McastOp::Listen,
        event_filter: None,
        portid: 6830,
        seq: 1,
        ack: 0x7476,
    };
    #[rustfmt::skip]
    let expected: [u8; 40] = [
        // struct nlmsghdr
        0x28, 0x00, 0x00, 0x00, // nlmsg_len = 40
        0x03, 0x00,             // nlmsg_type = NLMSG_DONE
        0x00, 0x00,             // nlmsg_flags = 0
        0x01, 0x00, 0x00, 0x00, // nlmsg_seq = 1
        0xae, 0x1a, 0x00, 0x00, // nlmsg_pid = 6830 (our portid)
        // struct cn_msg
        0x01, 0x00, 0x00, 0x00, // id.idx = CN_IDX_PROC
        0x01, 0x00, 0x00, 0x00, // id.val = CN_VAL_PROC
        0x01, 0x00, 0x00, 0x00, // seq = 1
        0x76, 0x74, 0x00, 0x00, // ack = 0x7476 (the kernel answers 0x7477)
        0x04, 0x00,             // len = 4
        0x00, 0x00,             // flags = 0
        // enum proc_cn_mcast_op
        0x01, 0x00, 0x00, 0x00, // PROC_CN_MCAST_LISTEN
    ];
    assert_eq!(request.to_datagram(), expected);
    assert_eq!(
        expected.as_slice(),
        hex_file(include_str!("../testdata/cn_proc/listen_request.hex"))
    );

    let message = netlink::messages(&expected).next().unwrap().unwrap();
    assert_eq!(
        message.header,
        netlink::Header {
            len: 40,
            kind: NLMSG_DONE,
            flags: 0,
            seq: 1,
            pid: 6830
        }
    );
    let cn = connector::Message::parse(message.payload).unwrap();
    assert_eq!(
        cn.header,
        connector::Header {
            idx: 1,
            val: 1,
            seq: 1,
            ack: 0x7476,
            len: 4,
            flags: 0
        }
    );
    assert_eq!(cn.data, 1u32.to_ne_bytes());
}

#[test]
fn filtered_listen_request() {
    let filter = what::EXEC | what::EXIT | what::NONZERO_EXIT;
    let request = Request {
        op: McastOp::Listen,
        event_filter: Some(filter),
        portid: 6830,
        seq: 7,
        ack: 0,
    };
    #[rustfmt::skip]
    let expected: [u8; 44] = [
        // struct nlmsghdr
        0x2c, 0x00, 0x00, 0x00, // nlmsg_len = 44
        0x03, 0x00,             // nlmsg_type = NLMSG_DONE
        0x00, 0x00,             // nlmsg_flags = 0
        0x07, 0x00, 0x00, 0x00, // nlmsg_seq = 7
        0xae, 0x1a, 0x00, 0x00, // nlmsg_pid = 6830
        // struct cn_msg
        0x01, 0x00, 0x00, 0x00, // id.idx = CN_IDX_PROC
        0x01, 0x00, 0x00, 0x00, // id.val = CN_VAL_PROC
        0x07, 0x00, 0x00, 0x00, // seq = 7
        0x00, 0x00, 0x00, 0x00, // ack = 0
        0x08, 0x00,             // len = 8 (struct proc_input)
        0x00, 0x00,             // flags = 0
        // struct proc_input
        0x01, 0x00, 0x00, 0x00, // mcast_op = PROC_CN_MCAST_LISTEN
        0x02, 0x00, 0x00, 0xa0, // event_type = EXEC | NONZERO_EXIT | EXIT
    ];
    assert_eq!(request.to_datagram(), expected);
}

#[test]
fn filtered_ignore_request_drops_unknown_filter_bits() {
    let request = Request {
        op: McastOp::Ignore,
        event_filter: Some(u32::MAX),
        portid: 0,
        seq: 0,
        ack: 0,
    };
    #[rustfmt::skip]
    let expected: [u8; 44] = [
        // struct nlmsghdr
        0x2c, 0x00, 0x00, 0x00, // nlmsg_len = 44
        0x03, 0x00,             // nlmsg_type = NLMSG_DONE
        0x00, 0x00,             // nlmsg_flags = 0
        0x00, 0x00, 0x00, 0x00, // nlmsg_seq = 0
        0x00, 0x00, 0x00, 0x00, // nlmsg_pid = 0
        // struct cn_msg
        0x01, 0x00, 0x00, 0x00, // id.idx = CN_IDX_PROC
        0x01, 0x00, 0x00, 0x00, // id.val = CN_VAL_PROC
        0x00, 0x00, 0x00, 0x00, // seq = 0
        0x00, 0x00, 0x00, 0x00, // ack = 0
        0x08, 0x00,             // len = 8
        0x00, 0x00,             // flags = 0
        // struct proc_input
        0x02, 0x00, 0x00, 0x00, // mcast_op = PROC_CN_MCAST_IGNORE
        0xc7, 0x03, 0x00, 0xe0, // event_type = PROC_EVENT_ALL | NONZERO_EXIT (0xe00003c7)
    ];
    assert_eq!(request.to_datagram(), expected);
    assert_eq!(what::ALL | what::NONZERO_EXIT, 0xe000_03c7);
}
