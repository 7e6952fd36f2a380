#!/usr/bin/env python3
"""Capture real proc connector datagrams for the golden tests (tests/golden_cn_proc.rs).

Run as root in the initial pid/user namespace:

    sudo python3 crates/wire/testdata/capture_cn_proc.py OUTDIR

It listens on NETLINK_CONNECTOR / CN_IDX_PROC with the classic 4-byte LISTEN request,
compiles cn_proc_trigger.c (next to this script) with gcc, forks and execs it, and keeps
only the datagrams about this script's own process tree (the machine has other processes)
plus the acknowledgement of its own LISTEN. Each kind is written to OUTDIR/<kind>.hex
(and the request sent to OUTDIR/listen_request.hex): `#` comment lines describing the
event, then the raw datagram as one line of hex.

The committed captures live in testdata/cn_proc/. Re-capturing changes pids, timestamps
and sequence numbers, so the byte arrays in tests/golden_cn_proc.rs must be updated to
match (the test compares them with the .hex files).
"""

import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

NETLINK_CONNECTOR = 11
CN_IDX_PROC = 1
CN_VAL_PROC = 1
NLMSG_DONE = 3
PROC_CN_MCAST_LISTEN = 1
SO_RCVBUFFORCE = 33
# The kernel's ack (PROC_EVENT_NONE) is multicast to every listener, and on 6.x it carries
# a per-CPU seq and the real cpu, not our seq: only cn_msg.ack (= ours + 1) identifies it.
LISTEN_SEQ = 1
LISTEN_ACK = 0x7476  # the ack we want back is 0x7477, "tw"

WHAT = {
    0x0: "none", 0x1: "fork", 0x2: "exec", 0x4: "uid", 0x40: "gid", 0x80: "sid",
    0x100: "ptrace", 0x200: "comm", 0x40000000: "coredump", 0x80000000: "exit",
}


def listen_request(portid):
    """nlmsghdr + cn_msg + u32 op: listen.rs's classic `Request` with seq 1, ack 0x7476."""
    body = struct.pack("=I", PROC_CN_MCAST_LISTEN)
    cn = struct.pack("=IIIIHH", CN_IDX_PROC, CN_VAL_PROC, LISTEN_SEQ, LISTEN_ACK, len(body), 0)
    total = 16 + len(cn) + len(body)
    nl = struct.pack("=IHHII", total, NLMSG_DONE, 0, LISTEN_SEQ, portid)
    return nl + cn + body


def decode(dgram):
    """Returns (nlmsghdr, cn_msg, what, cpu, ts, union bytes) of a one-message datagram."""
    nl = struct.unpack_from("=IHHII", dgram, 0)
    cn = struct.unpack_from("=IIIIHH", dgram, 16)
    what, cpu, ts = struct.unpack_from("=IIQ", dgram, 36)
    return nl, cn, what, cpu, ts, dgram[52:]


def describe(dgram):
    nl, cn, what, cpu, ts, u = decode(dgram)
    name = WHAT.get(what, hex(what))
    w = struct.unpack_from("=6i", u.ljust(24, b"\0"))
    if what == 0x200:
        detail = "pid=%d tgid=%d comm=%r" % (w[0], w[1], u[8:24].rstrip(b"\0").decode())
    elif what == 0x80000000:
        detail = "pid=%d tgid=%d exit_code=%#x exit_signal=%d parent=%d/%d" % w
    elif what == 0:
        detail = "err=%d" % w[0]
    else:
        detail = "words=%s" % (w,)
    return ("nlmsghdr len=%d type=%d flags=%#x seq=%d pid=%d; cn_msg idx=%d val=%d seq=%d "
            "ack=%d len=%d flags=%#x; proc_event what=%s(%#x) cpu=%d timestamp_ns=%d %s"
            % (nl + cn + (name, what, cpu, ts, detail)))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: capture_cn_proc.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    tmp = tempfile.mkdtemp(prefix="tw-capture-")
    helper = os.path.join(tmp, "tw-trigger")
    subprocess.run(["gcc", "-O1", "-pthread", "-o", helper,
                    os.path.join(here, "cn_proc_trigger.c")], check=True)
    os.chmod(tmp, 0o755)

    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
    sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
    sock.bind((0, CN_IDX_PROC))
    portid = sock.getsockname()[0]
    request = listen_request(portid)
    sock.send(request)
    with open(os.path.join(outdir, "listen_request.hex"), "w") as f:
        f.write("# the classic LISTEN request the capture script sent (portid %d)\n" % portid)
        f.write(request.hex() + "\n")

    captured = []  # every datagram, in arrival order

    def drain(quiet_for):
        deadline = time.monotonic() + quiet_for
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            ready, _, _ = select.select([sock], [], [], left)
            if ready:
                captured.append(sock.recv(65536))
                deadline = time.monotonic() + quiet_for

    drain(0.3)  # the ack arrives right away
    me = os.getpid()
    child = os.fork()
    if child == 0:
        try:
            os.execv(helper, [helper])
        finally:
            os._exit(127)
    _, status = os.waitpid(child, 0)
    shutil.rmtree(tmp, ignore_errors=True)
    drain(1.0)
    sock.close()
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 3:
        sys.exit("trigger failed: status %#x" % status)

    # Our tree: this process and, transitively, everything it forked.
    tree = {me}
    changed = True
    while changed:
        changed = False
        for d in captured:
            _, _, what, _, _, u = decode(d)
            if what == 0x1:
                ppid, ptgid, cpid, ctgid = struct.unpack_from("=4I", u)
                if ptgid in tree and ctgid not in tree:
                    tree.add(ctgid)
                    changed = True

    kinds = {}

    def keep(kind, d):
        if kind in kinds:
            sys.exit("two datagrams for %s" % kind)
        kinds[kind] = d

    crasher = None
    for d in captured:
        nl, cn, what, cpu, ts, u = decode(d)
        pid, tgid = struct.unpack_from("=2I", u)
        if what == 0x0:
            if cn[3] == LISTEN_ACK + 1:
                keep("ack", d)
            continue
        if what == 0x1:
            ppid, ptgid, cpid, ctgid = struct.unpack_from("=4I", u)
            if ctgid == child and cpid == child:
                keep("fork", d)
            elif ctgid == child:
                keep("fork_thread", d)
            continue
        if tgid not in tree:
            continue
        if what == 0x100:
            tracer = struct.unpack_from("=I", u, 8)[0]
            keep("ptrace_attach" if tracer else "ptrace_detach", d)
        elif what == 0x40000000:
            crasher = tgid
            keep("coredump", d)
        elif what == 0x80000000:
            if pid != tgid:
                keep("exit_thread", d)
            elif pid == child:
                keep("exit_code", d)
            elif pid == crasher:
                keep("exit_signaled", d)
        elif pid == child:
            keep(WHAT.get(what, hex(what)), d)

    expected = ["ack", "fork", "fork_thread", "exec", "comm", "exit_thread", "ptrace_attach",
                "ptrace_detach", "coredump", "exit_signaled", "sid", "gid", "uid", "exit_code"]
    missing = [k for k in expected if k not in kinds]
    for kind in expected:
        if kind not in kinds:
            continue
        d = kinds[kind]
        with open(os.path.join(outdir, kind + ".hex"), "w") as f:
            f.write("# %s: captured on Linux %s; capturer pid %d (portid %d), trigger pid %d\n"
                    % (kind, os.uname().release, me, portid, child))
            f.write("# %s\n" % describe(d))
            f.write(d.hex() + "\n")
        print("%-14s %s" % (kind, describe(d)))
    if missing:
        sys.exit("missing kinds: %s" % ", ".join(missing))


if __name__ == "__main__":
    main()
