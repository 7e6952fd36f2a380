#!/usr/bin/env python3
"""Capture real generic netlink / taskstats datagrams for the golden tests
(tests/golden_taskstats.rs).

Run as root (CAP_NET_ADMIN in the initial user namespace) in the initial pid namespace:

    sudo python3 crates/wire/testdata/capture_taskstats.py OUTDIR

It resolves the "TASKSTATS" family with CTRL_CMD_GETFAMILY, registers a listener for every
online CPU, compiles taskstats_trigger.c (next to this script) with gcc and runs it twice:
`single` (exits 7) and `threads` (two worker threads; queried with TASKSTATS_CMD_GET by pid
and by tgid while alive, then every thread exits). It keeps only the exit records of its own
children (the machine has other processes), provokes three error replies (a CPU out of
range, a cpulist too long, a pid that does not exist) and deregisters. Every request sent
and every datagram kept is written to OUTDIR/<kind>.hex: `#` comment lines describing it,
then the raw bytes as one line of hex. It does not touch kernel.task_delayacct: with the
default 0 only the CPU delay class has values.

The committed captures live in testdata/taskstats/. Re-capturing changes pids, times, seqs
and counters, so the assertions in tests/golden_taskstats.rs must be updated to match.
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

NETLINK_GENERIC = 16
SO_RCVBUFFORCE = 33
NLMSG_ERROR = 2
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
GENL_ID_CTRL = 0x10
CTRL_CMD_NEWFAMILY = 1
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
CTRL_ATTR_VERSION = 3
CTRL_ATTR_HDRSIZE = 4
CTRL_ATTR_MAXATTR = 5
TASKSTATS_CMD_GET = 1
TASKSTATS_CMD_NEW = 2
CMD_ATTR_PID = 1
CMD_ATTR_TGID = 2
CMD_ATTR_REGISTER_CPUMASK = 3
CMD_ATTR_DEREGISTER_CPUMASK = 4
TYPE_PID = 1
TYPE_TGID = 2
TYPE_STATS = 3
TYPE_AGGR_PID = 4
TYPE_AGGR_TGID = 5
TYPE_NULL = 6
GENL_VERSION = 1
NR_CPUS_LIMIT_BASE = 100  # TASKSTATS_CPUMASK_MAXLEN = 100 + 6 * NR_CPUS


def align4(n):
    return (n + 3) & ~3


def attr(kind, payload):
    """One netlink attribute, padded to 4 bytes (the padding counts in nlmsg_len)."""
    raw = struct.pack("=HH", 4 + len(payload), kind) + payload
    return raw + b"\0" * (align4(len(raw)) - len(raw))


def genl_request(family, flags, seq, portid, cmd, attrs):
    """nlmsghdr + genlmsghdr(cmd, version 1) + attributes: what genetlink.rs / request.rs build."""
    body = struct.pack("=BBH", cmd, GENL_VERSION, 0) + attrs
    return struct.pack("=IHHII", 16 + len(body), family, flags, seq, portid) + body


def attributes(buf):
    """[(offset, nla_len, type, payload)] of a flat attribute stream."""
    out, off = [], 0
    while off + 4 <= len(buf):
        nla_len, kind = struct.unpack_from("=HH", buf, off)
        if nla_len < 4 or off + nla_len > len(buf):
            raise ValueError("bad attribute at %d" % off)
        out.append((off, nla_len, kind & 0x3FFF, buf[off + 4:off + nla_len]))
        off += align4(nla_len)
    return out


def messages(dgram):
    """[(offset, nlmsghdr tuple, payload)] of a datagram."""
    out, off = [], 0
    while off + 16 <= len(dgram):
        hdr = struct.unpack_from("=IHHII", dgram, off)
        out.append((off, hdr, dgram[off + 16:off + hdr[0]]))
        off += align4(hdr[0])
    return out


def stats_summary(s):
    """The fields the golden tests assert, from a v16 struct taskstats."""
    version, exitcode, flag, nice = struct.unpack_from("=HxxIBB", s, 0)
    cpu_count, cpu_delay_total = struct.unpack_from("=QQ", s, 16)
    real, virt = struct.unpack_from("=QQ", s, 64)
    comm = s[80:112].split(b"\0")[0].decode()
    uid, gid, pid, ppid, btime = struct.unpack_from("=5I", s, 120)
    etime, utime, stime, minflt, majflt = struct.unpack_from("=5Q", s, 144)
    hiwater_rss, hiwater_vm, rchar, wchar, syscr, syscw = struct.unpack_from("=6Q", s, 200)
    nvcsw, nivcsw = struct.unpack_from("=QQ", s, 272)
    tgid = struct.unpack_from("=I", s, 368)[0]
    cpu_max, cpu_min = struct.unpack_from("=QQ", s, 432) if len(s) >= 448 else (0, 0)
    return ("taskstats version=%d len=%d ac_exitcode=%#x ac_flag=%#x ac_nice=%d comm=%r "
            "uid=%d gid=%d pid=%d ppid=%d tgid=%d btime=%d etime=%dus utime=%dus stime=%dus "
            "minflt=%d majflt=%d hiwater_rss=%dKiB hiwater_vm=%dKiB read_char=%d write_char=%d "
            "syscr=%d syscw=%d nvcsw=%d nivcsw=%d cpu_count=%d cpu_delay_total=%dns "
            "cpu_run_real_total=%dns cpu_run_virtual_total=%dns cpu_delay_max=%dns "
            "cpu_delay_min=%dns"
            % (version, len(s), exitcode, flag, nice, comm, uid, gid, pid, ppid, tgid, btime,
               etime, utime, stime, minflt, majflt, hiwater_rss, hiwater_vm, rchar, wchar,
               syscr, syscw, nvcsw, nivcsw, cpu_count, cpu_delay_total, real, virt, cpu_max,
               cpu_min))


def records(payload):
    """[(aggregate type, id, stats offset in payload, stats bytes)] of a CMD_NEW payload."""
    out = []
    for off, _, kind, nest in attributes(payload[4:]):
        if kind not in (TYPE_AGGR_PID, TYPE_AGGR_TGID):
            continue
        ident, stats, stats_off = None, None, None
        for ioff, _, ikind, data in attributes(nest):
            if ikind in (TYPE_PID, TYPE_TGID):
                ident = struct.unpack_from("=I", data)[0]
            elif ikind == TYPE_STATS:
                stats, stats_off = data, 4 + off + 4 + ioff + 4
        out.append((kind, ident, stats_off, stats))
    return out


def describe(dgram, family):
    lines = []
    for moff, hdr, payload in messages(dgram):
        lines.append("message at %d: nlmsghdr len=%d type=%#x flags=%#x seq=%d pid=%d"
                     % ((moff,) + hdr))
        if hdr[1] == NLMSG_ERROR:
            err = struct.unpack_from("=i", payload)[0]
            req = struct.unpack_from("=IHHII", payload, 4)
            lines.append("nlmsgerr error=%d (%s); request len=%d type=%#x flags=%#x seq=%d "
                         "pid=%d; %d bytes of the request echoed"
                         % ((err, os.strerror(-err) if err else "ack") + req
                            + (len(payload) - 20,)))
            continue
        cmd, version, _ = struct.unpack_from("=BBH", payload)
        lines.append("genlmsghdr cmd=%d version=%d" % (cmd, version))
        attrs = attributes(payload[4:])
        lines.append("attributes: " + ", ".join(
            "type %d len %d at %d" % (k, n, moff + 20 + o) for o, n, k, _ in attrs))
        if hdr[1] == GENL_ID_CTRL:
            for _, _, kind, data in attrs:
                if kind == CTRL_ATTR_FAMILY_ID:
                    lines.append("CTRL_ATTR_FAMILY_ID=%d" % struct.unpack_from("=H", data)[0])
                elif kind == CTRL_ATTR_FAMILY_NAME:
                    lines.append("CTRL_ATTR_FAMILY_NAME=%r" % data)
                elif kind in (CTRL_ATTR_VERSION, CTRL_ATTR_HDRSIZE, CTRL_ATTR_MAXATTR):
                    lines.append("ctrl attr %d = %d" % (kind, struct.unpack_from("=I", data)[0]))
        elif hdr[1] == family and cmd == TASKSTATS_CMD_NEW:
            for kind, ident, soff, stats in records(payload):
                lines.append("%s %d: STATS (%d bytes) at datagram offset %d (%d mod 8)"
                             % ("AGGR_PID pid" if kind == TYPE_AGGR_PID else "AGGR_TGID tgid",
                                ident, len(stats), moff + 16 + soff, (moff + 16 + soff) % 8))
                lines.append("  " + stats_summary(stats))
    return lines


def write(outdir, kind, data, lines):
    with open(os.path.join(outdir, kind + ".hex"), "w") as f:
        f.write("# %s: captured on Linux %s (%d bytes)\n" % (kind, os.uname().release, len(data)))
        for line in lines:
            f.write("# %s\n" % line)
        f.write(data.hex() + "\n")
    print("%-22s %5d bytes  %s" % (kind, len(data), lines[-1] if lines else ""))


def recv_reply(sock, seq, timeout=2.0):
    """The datagrams answering `seq` on a command socket, up to and including the ack."""
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], deadline - time.monotonic())
        if not ready:
            break
        d = sock.recv(1 << 16)
        hdr = struct.unpack_from("=IHHII", d)
        if hdr[3] != seq:
            continue
        got.append(d)
        if hdr[1] == NLMSG_ERROR:
            break
    return got


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: capture_taskstats.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    tmp = tempfile.mkdtemp(prefix="tw-capture-")
    helper = os.path.join(tmp, "tw-taskstats")
    subprocess.run(["gcc", "-O1", "-pthread", "-o", helper,
                    os.path.join(here, "taskstats_trigger.c")], check=True)
    release = os.uname().release

    # --- resolve the family on a command socket (never registered) ---
    cmd = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    cmd.bind((0, 0))
    cmd_port = cmd.getsockname()[0]
    req = genl_request(GENL_ID_CTRL, NLM_F_REQUEST, 1, cmd_port, CTRL_CMD_GETFAMILY,
                       attr(CTRL_ATTR_FAMILY_NAME, b"TASKSTATS\0"))
    write(outdir, "getfamily_request", req,
          ["CTRL_CMD_GETFAMILY for \"TASKSTATS\", flags NLM_F_REQUEST, seq 1, portid %d"
           % cmd_port])
    cmd.send(req)
    reply = recv_reply(cmd, 1)
    if len(reply) != 1:
        sys.exit("expected one CTRL reply, got %d" % len(reply))
    family = None
    for _, _, kind, data in attributes(messages(reply[0])[0][2][4:]):
        if kind == CTRL_ATTR_FAMILY_ID:
            family = struct.unpack_from("=H", data)[0]
    write(outdir, "getfamily_reply", reply[0], describe(reply[0], family))

    # --- the listener ---
    online = open("/sys/devices/system/cpu/online").read().strip()
    nr_cpus = int(open("/sys/devices/system/cpu/kernel_max").read()) + 1
    lis = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    lis.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
    lis.bind((0, 0))
    lis_port = lis.getsockname()[0]
    req = genl_request(family, NLM_F_REQUEST | NLM_F_ACK, 1, lis_port, TASKSTATS_CMD_GET,
                       attr(CMD_ATTR_REGISTER_CPUMASK, online.encode() + b"\0"))
    write(outdir, "register_request", req,
          ["TASKSTATS_CMD_GET REGISTER_CPUMASK %r (online CPUs), family %d, "
           "flags REQUEST|ACK, seq 1, portid %d" % (online, family, lis_port)])
    lis.send(req)
    captured = []  # everything the listener receives, in order
    ack = None
    deadline = time.monotonic() + 2
    while ack is None and time.monotonic() < deadline:
        ready, _, _ = select.select([lis], [], [], 0.5)
        if ready:
            d = lis.recv(1 << 16)
            if struct.unpack_from("=H", d, 4)[0] == NLMSG_ERROR:
                ack = d
            else:
                captured.append(d)
    if ack is None:
        sys.exit("no ack for the registration")
    write(outdir, "register_ack", ack, describe(ack, family))

    # --- error replies, on the command socket ---
    def error_case(kind, seq, what, payload_attr):
        req = genl_request(family, NLM_F_REQUEST | NLM_F_ACK, seq, cmd_port,
                           TASKSTATS_CMD_GET, payload_attr)
        write(outdir, kind + "_request", req,
              ["TASKSTATS_CMD_GET %s, flags REQUEST|ACK, seq %d, portid %d"
               % (what, seq, cmd_port)])
        cmd.send(req)
        reply = recv_reply(cmd, seq)
        if len(reply) != 1:
            sys.exit("%s: expected one reply, got %d" % (kind, len(reply)))
        write(outdir, kind, reply[0], describe(reply[0], family))

    possible = open("/sys/devices/system/cpu/possible").read().strip()
    nr_cpu_ids = int(possible.replace("-", ",").split(",")[-1]) + 1
    bad_cpu = "0-%d" % nr_cpu_ids
    error_case("register_erange", 2,
               "REGISTER_CPUMASK %r (CPU %d = nr_cpu_ids)" % (bad_cpu, nr_cpu_ids),
               attr(CMD_ATTR_REGISTER_CPUMASK, bad_cpu.encode() + b"\0"))
    maxlen = NR_CPUS_LIMIT_BASE + 6 * nr_cpus
    long_list = ("0," * ((maxlen - 2) // 2) + "01").encode() + b"\0"
    assert len(long_list) == maxlen + 1, len(long_list)
    error_case("register_e2big", 3,
               "REGISTER_CPUMASK of %d bytes with its NUL (limit 100 + 6 * NR_CPUS(%d) = %d)"
               % (len(long_list), nr_cpus, maxlen),
               attr(CMD_ATTR_REGISTER_CPUMASK, long_list))
    gone = 0x7FFFFFF0
    error_case("get_gone", 4, "PID %d (no such task)" % gone,
               attr(CMD_ATTR_PID, struct.pack("=I", gone)))

    # --- the multi-threaded child: GET by pid and tgid while it lives ---
    threads = subprocess.Popen([helper, "threads"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE)
    line = threads.stdout.readline().decode().split()
    if not line or line[0] != "ready":
        sys.exit("threads trigger failed: %r" % line)
    workers = [int(t) for t in line[1:]]
    leader = threads.pid
    for kind, seq, attr_kind, what in (("get_pid", 5, CMD_ATTR_PID, "PID"),
                                       ("get_tgid", 6, CMD_ATTR_TGID, "TGID")):
        req = genl_request(family, NLM_F_REQUEST | NLM_F_ACK, seq, cmd_port,
                           TASKSTATS_CMD_GET, attr(attr_kind, struct.pack("=I", leader)))
        write(outdir, kind + "_request", req,
              ["TASKSTATS_CMD_GET %s %d (the live threads trigger, workers %s), "
               "flags REQUEST|ACK, seq %d, portid %d" % (what, leader, workers, seq, cmd_port)])
        cmd.send(req)
        reply = recv_reply(cmd, seq)
        if len(reply) != 2:
            sys.exit("%s: expected a reply and an ack, got %d datagrams" % (kind, len(reply)))
        write(outdir, kind + "_reply", reply[0], describe(reply[0], family))
        write(outdir, kind + "_ack", reply[1], describe(reply[1], family))

    # --- the exits ---
    single = subprocess.Popen([helper, "single"])
    if single.wait() != 7:
        sys.exit("single trigger: exit %r" % single.returncode)
    threads.stdin.close()
    if threads.wait() != 0:
        sys.exit("threads trigger: exit %r" % threads.returncode)
    shutil.rmtree(tmp, ignore_errors=True)

    def drain(quiet_for):
        deadline = time.monotonic() + quiet_for
        while time.monotonic() < deadline:
            ready, _, _ = select.select([lis], [], [], deadline - time.monotonic())
            if ready:
                captured.append(lis.recv(1 << 16))

    drain(1.0)
    req = genl_request(family, NLM_F_REQUEST | NLM_F_ACK, 2, lis_port, TASKSTATS_CMD_GET,
                       attr(CMD_ATTR_DEREGISTER_CPUMASK, online.encode() + b"\0"))
    write(outdir, "deregister_request", req,
          ["TASKSTATS_CMD_GET DEREGISTER_CPUMASK %r, flags REQUEST|ACK, seq 2, portid %d"
           % (online, lis_port)])
    lis.send(req)
    drain(0.5)
    lis.close()
    cmd.close()

    kept = {}
    for d in captured:
        hdr = struct.unpack_from("=IHHII", d)
        if hdr[1] == NLMSG_ERROR:
            if hdr[3] == 2 and "deregister_ack" not in kept:
                kept["deregister_ack"] = d
            continue
        for _, _, payload in messages(d):
            recs = records(payload)
            if not recs:
                continue
            kind, ident = recs[0][0], recs[0][1]
            if kind != TYPE_AGGR_PID:
                continue
            if ident == single.pid:
                name = "exit_single"
            elif ident == leader:
                name = "exit_last_thread"
            elif ident in workers:
                name = "exit_worker"
            else:
                continue
            if name not in kept:
                kept[name] = d
    for name in ("exit_single", "exit_worker", "exit_last_thread", "deregister_ack"):
        if name not in kept:
            sys.exit("missing %s" % name)
        lines = describe(kept[name], family)
        if name == "exit_single":
            lines.insert(0, "the `single` trigger (pid %d) exiting with exit(7)" % single.pid)
        elif name == "exit_worker":
            lines.insert(0, "a worker thread (tid in %s) of the `threads` trigger (tgid %d) "
                         "exiting while its group lives" % (workers, leader))
        elif name == "exit_last_thread":
            lines.insert(0, "the `threads` trigger's main thread (pid %d) exiting last, "
                         "status 0: per-thread and whole-group records" % leader)
        write(outdir, name, kept[name], lines)
    print("family id %d, kernel %s, listener portid %d, command portid %d"
          % (family, release, lis_port, cmd_port))


if __name__ == "__main__":
    main()
