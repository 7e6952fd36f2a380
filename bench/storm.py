#!/usr/bin/env python3
"""Storm benchmark: fork/exec/exit as fast as the machine allows, alternating runs without
and with `taskwatch watch --json > FILE`, and report rate, events seen, lost, CPU per event.

Usage: sudo python3 bench/storm.py [--workers 2] [--children 15000] [--rounds 3]
       [--taskwatch target/release/taskwatch] [--watch-arg ARG ...]
"""
import argparse, json, os, signal, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))


def build(tmp):
    worker, true = os.path.join(tmp, "storm_worker"), os.path.join(tmp, "storm_true")
    subprocess.run(["cc", "-O2", "-o", worker, os.path.join(HERE, "storm_worker.c")], check=True)
    subprocess.run(["cc", "-O2", "-static", "-o", true, os.path.join(HERE, "storm_true.c")], check=True)
    return worker, true


def cpu_ns(pid):
    """Time on CPU of every thread of pid, from /proc/PID/task/*/schedstat (ns)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
            total += int(f.read().split()[0])
    return total


def storm(worker, true, workers, children):
    start = time.monotonic()
    procs = [subprocess.Popen([worker, str(children), true], stdout=subprocess.PIPE, text=True) for _ in range(workers)]
    pids = []
    for p in procs:
        out, _ = p.communicate()
        pids.append(int(out.split()[0]))
    wall = time.monotonic() - start
    return pids, workers * children / wall


def start_watch(taskwatch, extra, out_path):
    out = open(out_path, "wb")
    env = dict(os.environ, TASKWATCH_LOG="info")
    p = subprocess.Popen([taskwatch, "watch", "--json", *extra], stdout=out, stderr=subprocess.PIPE, env=env)
    for line in p.stderr:
        if b"watching" in line:
            break
    else:
        sys.exit("taskwatch did not start: " + out_path)
    return p, out


def count(out_path, worker_pids, true_path):
    workers = set(worker_pids)
    children, forks, execs, exits, exe_ok, lost, total = set(), 0, 0, 0, 0, 0, 0
    with open(out_path) as f:
        for line in f:
            total += 1
            e = json.loads(line)
            kind = e["event"]
            if kind == "lost":
                lost += e["count"]
            elif kind == "fork" and e.get("parent_tgid") in workers and not e["thread"]:
                children.add(e["pid"])
                forks += 1
            elif kind == "exec" and e["pid"] in children:
                execs += 1
                exe_ok += e.get("exe") == true_path
            elif kind == "exit" and e["pid"] in children:
                exits += 1
    return dict(forks=forks, execs=execs, exits=exits, exe_ok=exe_ok, lost=lost, lines=total)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--children", type=int, default=15000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--taskwatch", default=os.path.join(HERE, "..", "target", "release", "taskwatch"))
    ap.add_argument("--watch-arg", action="append", default=[])
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="storm-")
    worker, true = build(tmp)
    expect_forks = a.workers * a.children
    expect_execs = a.workers * (a.children // 2)
    base, watched, rows = [], [], []
    for r in range(a.rounds):
        _, rate = storm(worker, true, a.workers, a.children)
        base.append(rate)
        print(f"round {r + 1}: without watcher {rate:,.0f} children/s", flush=True)
        out_path = os.path.join(tmp, f"watch-{r}.json")
        p, out = start_watch(a.taskwatch, a.watch_arg, out_path)
        cpu0 = cpu_ns(p.pid)
        pids, rate = storm(worker, true, a.workers, a.children)
        time.sleep(0.5)  # let the last events drain (the watcher flushes every 100 ms)
        cpu = cpu_ns(p.pid) - cpu0
        p.send_signal(signal.SIGTERM)
        p.wait()
        out.close()
        c = count(out_path, pids, true)
        per_event = cpu / max(c["lines"], 1)
        watched.append(rate)
        rows.append(dict(c, rate=rate, cpu_ns=cpu, cpu_per_event_ns=per_event))
        print(f"round {r + 1}: with watcher    {rate:,.0f} children/s; forks {c['forks']}/{expect_forks} "
              f"execs {c['execs']}/{expect_execs} (exe right: {c['exe_ok']}) exits {c['exits']}/{expect_forks} "
              f"lost {c['lost']}; {c['lines']} lines; watcher CPU {per_event:.0f} ns/event", flush=True)
    summary = dict(
        workers=a.workers, children=a.children, rounds=a.rounds,
        median_rate_without=statistics.median(base), median_rate_with=statistics.median(watched),
        rate_ratio=statistics.median(watched) / statistics.median(base),
        median_cpu_per_event_ns=statistics.median(r["cpu_per_event_ns"] for r in rows),
        all_seen=all(r["forks"] == expect_forks and r["exits"] == expect_forks and r["execs"] == expect_execs
                     and r["exe_ok"] == expect_execs for r in rows),
        total_lost=sum(r["lost"] for r in rows),
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
