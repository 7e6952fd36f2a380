#!/usr/bin/env python3
"""Writes seeds/trace_records/*: short, well-formed record streams in the trace_records
input layout (see fuzz_targets/trace_records.rs), laid out by the captured formats/:
a tick, an hrtimer, an IPI with its sender, an irq and softirq, a workqueue item inside
another task, the program's syscall and fault, an NMI and a migration. Copy them into
corpus/trace_records before fuzzing."""

import os
import re
import struct

here = os.path.dirname(os.path.abspath(__file__))

# The target's tracepoint list, in its selector order.
ORDER = """irq.irq_handler_entry irq.irq_handler_exit irq.softirq_entry irq.softirq_exit
irq_vectors.local_timer_entry irq_vectors.local_timer_exit irq_vectors.call_function_entry
irq_vectors.call_function_exit irq_vectors.call_function_single_entry
irq_vectors.call_function_single_exit irq_vectors.reschedule_entry irq_vectors.reschedule_exit
irq_vectors.irq_work_entry irq_vectors.x86_platform_ipi_entry irq_vectors.x86_platform_ipi_exit
irq_vectors.thermal_apic_entry irq_vectors.thermal_apic_exit irq_vectors.error_apic_entry
irq_vectors.error_apic_exit irq_vectors.spurious_apic_entry irq_vectors.spurious_apic_exit
csd.csd_function_entry workqueue.workqueue_execute_start workqueue.workqueue_execute_end
timer.tick_stop timer.hrtimer_expire_entry timer.hrtimer_expire_exit timer.timer_expire_entry
timer.timer_expire_exit sched.sched_switch sched.sched_migrate_task raw_syscalls.sys_enter
raw_syscalls.sys_exit exceptions.page_fault_user nmi.nmi_handler ipi.ipi_send_cpu
ipi.ipi_send_cpumask""".split()

# Same addresses as the target's KALLSYMS.
TICK = 0xFFFFFFFF814352E0
WAKEUP = 0xFFFFFFFF81435400
CALLSITE = 0xFFFFFFFF81500010
VMSTAT = 0xFFFFFFFF81600000

FIELD = re.compile(r"field:(.*?) (\w+)(\[\d*\])?;\s*offset:(\d+);\s*size:(\d+);")


def load(name):
    fields = {}
    for m in FIELD.finditer(open(os.path.join(here, "formats", name + ".format")).read()):
        fields[m.group(2)] = (m.group(1), int(m.group(4)), int(m.group(5)))
    return fields


FORMATS = {name: load(name) for name in ORDER}
INT = {1: "<B", 2: "<H", 4: "<I", 8: "<Q"}


def record(tp, common_pid, **values):
    """The raw bytes of `name` (its id written by the target), data_loc strings appended."""
    fields = FORMATS[tp]
    size = max(off + sz for _, off, sz in fields.values())
    raw = bytearray(size)
    struct.pack_into("<i", raw, fields["common_pid"][1], common_pid)
    for key, value in values.items():
        ctype, off, sz = fields[key]
        if ctype.startswith("__data_loc"):
            data = value if isinstance(value, bytes) else value.encode() + b"\0"
            struct.pack_into("<I", raw, off, len(raw) | (len(data) << 16))
            raw += data
        elif isinstance(value, (bytes, str)):
            data = value if isinstance(value, bytes) else value.encode()
            raw[off : off + min(sz, len(data))] = data[:sz]
        else:
            struct.pack_into(INT[sz], raw, off, value & ((1 << (8 * sz)) - 1))
    return bytes(raw)


def stream(records, cpu=1, nohz_full=True, symbols=True, start=1_000_000_000):
    """records: (name, cpu, delta_ns, raw)."""
    out = bytearray([cpu | (4 if nohz_full else 0) | (8 if symbols else 0)])
    out += struct.pack("<Q", start)
    for name, rcpu, delta, raw in records:
        assert len(raw) < 256, name
        out += struct.pack("<BBBH", ORDER.index(name), len(raw), rcpu, delta) + raw
    return bytes(out)


def ev(tp, on=1, delta=100, common_pid=501, **values):
    """A record of `tp` on CPU `on`, `delta` ns after the previous one."""
    return (tp, on, delta, record(tp, common_pid, **values))


SEEDS = {
    "tick": [
        ev("timer.tick_stop", success=0, dependency=1 << 2),
        ev("irq_vectors.local_timer_entry", vector=236),
        ev("timer.hrtimer_expire_entry", function=TICK, now=5),
        ev("timer.hrtimer_expire_exit"),
        ev("irq_vectors.local_timer_exit", vector=236),
    ],
    "hrtimer": [
        ev("irq_vectors.local_timer_entry", vector=236),
        ev("timer.hrtimer_expire_entry", function=WAKEUP),
        ev("irq_vectors.local_timer_exit", vector=236),
        ev("timer.hrtimer_expire_entry", function=WAKEUP),
        ev("timer.hrtimer_expire_exit"),
    ],
    "ipi": [
        ev("ipi.ipi_send_cpu", on=0, common_pid=7, cpu=1, callsite=CALLSITE, callback=0),
        ev("irq_vectors.reschedule_entry", vector=253),
        ev("irq_vectors.reschedule_exit", vector=253),
        ev("ipi.ipi_send_cpumask", on=2, common_pid=8, cpumask=b"\x02\0\0\0\0\0\0\0",
           callsite=CALLSITE, callback=VMSTAT),
        ev("irq_vectors.call_function_single_entry", vector=251),
        ev("csd.csd_function_entry", func=VMSTAT, csd=0),
        ev("irq_vectors.call_function_single_exit", vector=251),
        ev("ipi.ipi_send_cpumask", on=3, common_pid=9, cpumask=b"\x02", callsite=CALLSITE),
        ev("irq_vectors.irq_work_entry", vector=246),
    ],
    "irq": [
        ev("irq.irq_handler_entry", irq=24, name="virtio0-input.0"),
        ev("irq.irq_handler_exit", irq=24, ret=1),
        ev("irq.softirq_entry", vec=1),
        ev("timer.timer_expire_entry", timer=0, function=VMSTAT, now=0, baseclk=0),
        ev("timer.timer_expire_exit", timer=0),
        ev("irq.softirq_exit", vec=1),
        ev("irq_vectors.thermal_apic_entry", vector=250),
        ev("irq_vectors.thermal_apic_exit", vector=250),
    ],
    "task": [
        ev("sched.sched_switch", prev_comm="prog", prev_pid=501, next_comm="kworker/1:0",
           next_pid=42),
        ev("workqueue.workqueue_execute_start", common_pid=42, work=0, function=VMSTAT),
        ev("workqueue.workqueue_execute_end", common_pid=42, work=0, function=VMSTAT),
        ev("sched.sched_switch", common_pid=42, prev_comm="kworker/1:0", prev_pid=42,
           next_comm="prog", next_pid=501),
        ev("sched.sched_migrate_task", comm="prog", pid=503, prio=120, orig_cpu=1,
           dest_cpu=2),
    ],
    "program": [
        ev("raw_syscalls.sys_enter", id=1, args=struct.pack("<6Q", 1, 0, 6, 0, 0, 0)),
        ev("raw_syscalls.sys_exit", id=1, ret=6),
        ev("raw_syscalls.sys_enter", common_pid=42, id=0),
        ev("raw_syscalls.sys_exit", common_pid=42, id=0),
        ev("exceptions.page_fault_user", address=0x7F0000001000, ip=0x401000, error_code=6),
        ev("nmi.nmi_handler", handler=WAKEUP, delta_ns=2500, handled=1),
    ],
}

if __name__ == "__main__":
    d = os.path.join(here, "seeds", "trace_records")
    os.makedirs(d, exist_ok=True)
    for name, records in SEEDS.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(stream(records))
    with open(os.path.join(d, "all_no_symbols"), "wb") as f:
        f.write(stream([r for rs in SEEDS.values() for r in rs], nohz_full=False, symbols=False))
