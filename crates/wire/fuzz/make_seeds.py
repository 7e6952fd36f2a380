#!/usr/bin/env python3
"""Writes seeds/TARGET/* from the real captures in ../testdata: proc connector datagrams
(and their connector / proc_event parts), tracefs format files, and a perf ring with a
sched_process_exec sample. Copy a target's seeds into corpus/TARGET before fuzzing it."""

import glob
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))
testdata = os.path.join(here, "..", "testdata")


def out(target, name, data):
    d = os.path.join(here, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


datagrams = {}
for path in sorted(glob.glob(os.path.join(testdata, "cn_proc", "*.hex"))):
    lines = [l for l in open(path) if not l.startswith("#")]
    datagrams[os.path.basename(path)[:-4]] = bytes.fromhex("".join(lines).strip())
for name, d in datagrams.items():
    out("netlink_messages", name, d)
    out("connector", name, d[16:])
    out("proc_event", name, d[36:])
out("netlink_messages", "two_messages", datagrams["fork"] + datagrams["exit_code"])
# NLMSG_ERROR acknowledging a request (error 0) followed by an error (-EINVAL).
request = struct.pack("=IHHII", 40, 3, 5, 9, 1234)
ack = struct.pack("=IHHII", 16 + 4 + 16, 2, 0x100, 9, 1234) + struct.pack("=i", 0) + request
err = struct.pack("=IHHII", 16 + 4 + 16, 2, 0, 10, 1234) + struct.pack("=i", -22) + request
out("netlink_messages", "nlmsgerr", ack + err)

# A sched_process_exec raw record: /bin/true run by 4242 (layout of the 6.18 format).
raw = struct.pack("=HBBiIii", 365, 0, 1, 4242, (10 << 16) | 20, 4242, 4242) + b"/bin/true\0"
padded = raw + b"\0" * ((-(4 + len(raw))) % 8)
sample = struct.pack("=QI", 123456789, len(padded)) + padded
ring = struct.pack("=IHH", 9, 0, 8 + len(sample)) + sample            # PERF_RECORD_SAMPLE
ring += struct.pack("=IHH", 2, 0, 24) + struct.pack("=QQ", 7, 42)     # PERF_RECORD_LOST
ring += struct.pack("=IHH", 99, 0, 12) + b"\1\2\3\4"                  # unknown kind
out("perf_records", "sample_lost_other", ring)
for path in sorted(glob.glob(os.path.join(testdata, "tracepoint", "*.format"))):
    text = open(path, "rb").read()
    out("tracepoint_format", os.path.basename(path), text + b"\0" + raw)
out("tracepoint_format", "raw_exec_record", raw)

# Taskstats: every captured reply, ack, error and exit datagram (requests are ours, skipped).
# seeds/taskstats/exit_single_as_v15 (the single exit relabelled as a v15 struct) is kept
# in git as written once by hand.
for path in sorted(glob.glob(os.path.join(testdata, "taskstats", "*.hex"))):
    name = os.path.basename(path)[:-4]
    if name.endswith("_request"):
        continue
    lines = [l for l in open(path) if not l.startswith("#")]
    out("taskstats", name, bytes.fromhex("".join(lines).strip()))
