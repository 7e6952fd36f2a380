#!/usr/bin/env python3
"""Daemon benchmark: 64 subscribers with mixed cpumasks (CPU 0, CPU 1, CPUs 0-1) during the
fork/exec/exit storm, plus one stalled subscriber that reads nothing until the storm is over.

Reports: exactness per subscriber (its lines about the storm's tasks equal the 0-1
reference's lines on its CPUs, nothing lost), p50/p99/max latency from the kernel timestamp
(ts_ns) to receipt by the subscriber (CLOCK_MONOTONIC when the chunk holding the line's end
was read), daemon CPU per event per subscriber (daemon CPU time / events queued to
subscribers, from /proc/PID/task/*/schedstat and the daemon's metrics), daemon peak RSS, and
the stalled subscriber's received + lost against what its filter matched.

The 64 subscribers are read by `taskwatch bench subscribers` (Rust, one blocking reader
thread per connection stamping each read with CLOCK_MONOTONIC) unless `--python-subscribers`
asks for the first version's single Python process with `selectors`, kept for comparison.

Usage: sudo python3 bench/daemon_storm.py [--workers 2] [--children 15000]
       [--subscribers 64] [--taskwatch target/release/taskwatch] [--python-subscribers]
"""
import argparse, json, os, re, selectors, signal, socket, subprocess, sys, tempfile, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from storm import build, cpu_ns  # noqa: E402

MASKS = ["0-1", "0", "1"]
STORM_COMMS = {"storm_worker", "storm_true"}


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


class Sub:
    def __init__(self, path, register):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.chunks, self.tail = [], b""
        self.sock.sendall(json.dumps(dict(op="register", tag=1, **register)).encode() + b"\n")
        buf = b""
        while buf.count(b"\n") < 2:  # hello, registered
            buf += self.sock.recv(65536)
        first, second, rest = buf.split(b"\n", 2)
        assert json.loads(second)["reply"] == "registered", second
        self.chunks.append((now_ns(), rest))

    def read(self):
        data = self.sock.recv(1 << 20)
        t = now_ns()
        if data:
            self.chunks.append((t, data))
        return data

    def lines(self):
        """(receipt ns, line bytes) for every complete line."""
        out, left = [], b""
        for t, data in self.chunks:
            parts = (left + data).split(b"\n")
            left = parts.pop()
            out.extend((t, p) for p in parts if p)
        return out

    def saw_exit(self, pid):
        pat = re.compile(rb'\{"event":"exit"[^\n]*"pid":%d,' % pid)
        tail = b"".join(d for _, d in self.chunks[-64:])
        return pat.search(tail) is not None


class FileSub:
    """A subscriber read by `taskwatch bench subscribers`: its lines from sub-N.lines."""

    def __init__(self, path):
        self.path = path

    def lines(self):
        out = []
        with open(self.path, "rb") as f:
            for raw in f:
                t, line = raw.rstrip(b"\n").split(b" ", 1)
                out.append((int(t), line))
        return out


def metrics(addr):
    text = urllib.request.urlopen(f"http://{addr}/metrics").read().decode()
    m = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            m[k] = float(v)
    return m


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--children", type=int, default=15000)
    ap.add_argument("--subscribers", type=int, default=64)
    ap.add_argument("--taskwatch", default=os.path.join(HERE, "..", "target", "release", "taskwatch"))
    ap.add_argument("--python-subscribers", action="store_true",
                    help="read the subscribers from this Python process (the first version)")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="daemon-storm-")
    worker, true = build(tmp)
    path, addr = os.path.join(tmp, "s.sock"), "127.0.0.1:19465"
    env = dict(os.environ, TASKWATCH_LOG="info")
    d = subprocess.Popen([a.taskwatch, "daemon", "--socket", path, "--metrics", addr],
                         stderr=subprocess.PIPE, env=env)
    for line in d.stderr:
        if b"ready" in line:
            break
    rust = None
    if a.python_subscribers:
        subs = [Sub(path, dict(cpus=MASKS[i % 3])) for i in range(a.subscribers)]
    else:
        out_dir = os.path.join(tmp, "subs")
        rust = subprocess.Popen([a.taskwatch, "bench", "subscribers", "--socket", path,
                                 "--subscribers", str(a.subscribers), "--masks", ",".join(MASKS),
                                 "--out", out_dir],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert rust.stdout.readline().strip() == "ready"
        subs = [FileSub(os.path.join(out_dir, f"sub-{i}.lines")) for i in range(a.subscribers)]
    stalled = Sub(path, dict(cpus="0-1", comms=sorted(STORM_COMMS)))
    sel = selectors.DefaultSelector()
    if rust is None:
        for s in subs:
            s.sock.setblocking(False)
            sel.register(s.sock, selectors.EVENT_READ, s)

    m0, cpu0 = metrics(addr), cpu_ns(d.pid)
    procs = [subprocess.Popen([worker, str(a.children), true], stdout=subprocess.PIPE, text=True)
             for _ in range(a.workers)]
    t0 = time.monotonic()
    markers = None
    while True:
        if rust is None:
            for key, _ in sel.select(timeout=0.05):
                key.data.read()
        elif markers is None:
            time.sleep(0.05)
        if markers is None and all(p.poll() is not None for p in procs):
            wall = time.monotonic() - t0
            m = []
            for c in (0, 1):
                p = subprocess.Popen(["taskset", "-c", str(c), "/bin/true"])
                p.wait()
                m.append(p.pid)
            markers = m
        if markers is not None and rust is not None:
            rust.stdin.write(f"until {markers[0]} {markers[1]}\n")
            rust.stdin.flush()
            assert rust.stdout.readline().strip() == "done"
            break
        if markers is not None:
            need = {"0": [markers[0]], "1": [markers[1]], "0-1": markers}
            if all(all(s.saw_exit(p) for p in need[MASKS[i % 3]]) for i, s in enumerate(subs)):
                break
    cpu, m1 = cpu_ns(d.pid) - cpu0, metrics(addr)
    worker_pids = {int(p.stdout.read().split()[0]) for p in procs}

    # The stalled subscriber: read everything queued, up to the pong that follows it.
    stalled.sock.sendall(b'{"op":"ping"}\n')
    while b'"reply":"pong"' not in b"".join(d for _, d in stalled.chunks[-2:]):
        stalled.read()
    status = open(f"/proc/{d.pid}/status").read()
    hwm_kib = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))
    d.send_signal(signal.SIGTERM)
    d.wait()

    ref = subs[0].lines()
    parsed_ref = [(t, l, json.loads(l)) for t, l in ref]
    storm = set(worker_pids)
    for _, _, e in parsed_ref:
        if e["event"] == "fork" and e["parent_tgid"] in worker_pids:
            storm.add(e["child_pid"])
    ref_storm = {l for _, l, e in parsed_ref if e.get("pid") in storm}
    exact, lost_any, lat = 0, 0, []
    for i, s in enumerate(subs):
        mask = MASKS[i % 3]
        cpus = {0, 1} if mask == "0-1" else {int(mask)}
        got = set()
        for t, l in s.lines():
            e = json.loads(l)
            if e["event"] == "lost":
                lost_any += e["count"]
            if e.get("pid") in storm:
                got.add(l)
                lat.append(t - e["ts_ns"])
        want = {l for _, l, e in parsed_ref if e.get("pid") in storm and e["cpu"] in cpus}
        exact += got == want
    st_lines = stalled.lines()
    st_got = st_lost = 0
    for _, l in st_lines:
        e = json.loads(l)
        if e.get("event") == "lost":
            st_lost += e["count"]
        elif e.get("event") and e.get("comm") in STORM_COMMS:
            st_got += 1
    st_want = sum(1 for _, _, e in parsed_ref if e.get("comm") in STORM_COMMS)
    out_events = sum(v for k, v in m1.items() if k.startswith("taskwatch_events_out_total")) - \
        sum(v for k, v in m0.items() if k.startswith("taskwatch_events_out_total"))
    in_events = sum(v for k, v in m1.items() if k.startswith("taskwatch_events_in_total")) - \
        sum(v for k, v in m0.items() if k.startswith("taskwatch_events_in_total"))
    forks = sum(1 for _, _, e in parsed_ref if e["event"] == "fork" and e["parent_tgid"] in worker_pids)
    result = dict(
        subscriber_side="python" if rust is None else "rust",
        subscribers=a.subscribers, workers=a.workers, children=a.children,
        storm_rate=a.workers * a.children / wall, storm_forks_seen=forks,
        storm_events_in_reference=len(ref_storm),
        exact_subscribers=exact, lost_at_keeping_up_subscribers=lost_any,
        latency_p50_us=pct(lat, 0.5) / 1e3, latency_p99_us=pct(lat, 0.99) / 1e3, latency_max_us=max(lat) / 1e3,
        daemon_cpu_ms=cpu / 1e6, events_in=in_events, events_out=out_events,
        daemon_cpu_ns_per_event_per_subscriber=cpu / max(out_events, 1),
        daemon_cpu_ns_per_event_in=cpu / max(in_events, 1),
        daemon_peak_rss_mib=hwm_kib / 1024,
        stalled_received=st_got, stalled_lost=st_lost, stalled_matched_by_filter=st_want,
        stalled_exact=(st_got + st_lost == st_want),
    )
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
