#!/usr/bin/env python3
"""The seed's measurement: storm with 0 vs 8 extra trivial watchers, runs alternated.

Runs the storm (bench/storm.py's workload) under `taskwatch watch --json` and under
`taskwatch-8w watch --json` (the same binary with eight trivial `any` watchers linked in,
bench/taskwatch-8w), alternating, and prints the median CPU per event and fork rate of
each, and the incremental cost per watcher in %.

Usage: cargo build --release -p taskwatch -p taskwatch-8w
       sudo python3 bench/storm_watchers.py [--rounds 5] [--workers 2] [--children 15000]
"""
import argparse, json, os, signal, statistics, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import storm  # noqa: E402

RELEASE = os.path.join(storm.HERE, "..", "target", "release")


def one_run(binary, worker, true, workers, children, out_path):
    p, out = storm.start_watch(binary, [], out_path)
    cpu0 = storm.cpu_ns(p.pid)
    pids, rate = storm.storm(worker, true, workers, children)
    time.sleep(0.5)  # let the last events drain
    cpu = storm.cpu_ns(p.pid) - cpu0
    p.send_signal(signal.SIGTERM)
    p.wait()
    out.close()
    c = storm.count(out_path, pids, true)
    return dict(c, rate=rate, cpu_per_event_ns=cpu / max(c["lines"], 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--children", type=int, default=15000)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    binaries = {0: os.path.join(RELEASE, "taskwatch"), 8: os.path.join(RELEASE, "taskwatch-8w")}
    for b in binaries.values():
        if not os.access(b, os.X_OK):
            sys.exit(f"{b} missing: run cargo build --release -p taskwatch -p taskwatch-8w")
    tmp = tempfile.mkdtemp(prefix="storm-watchers-")
    worker, true = storm.build(tmp)
    rows = {0: [], 8: []}
    for r in range(a.rounds):
        order = (0, 8) if r % 2 == 0 else (8, 0)
        for n in order:
            row = one_run(binaries[n], worker, true, a.workers, a.children, os.path.join(tmp, f"w{n}-{r}.json"))
            rows[n].append(row)
            print(f"round {r + 1}: {n} extra watchers: {row['rate']:,.0f} children/s, "
                  f"{row['cpu_per_event_ns']:.0f} ns CPU/event, lost {row['lost']}, "
                  f"exits {row['exits']}/{a.workers * a.children}", flush=True)
    med = {n: dict(cpu=statistics.median(x["cpu_per_event_ns"] for x in rows[n]),
                   rate=statistics.median(x["rate"] for x in rows[n])) for n in rows}
    summary = dict(
        rounds=a.rounds, workers=a.workers, children=a.children,
        cpu_per_event_ns_0=med[0]["cpu"], cpu_per_event_ns_8=med[8]["cpu"],
        rate_0=med[0]["rate"], rate_8=med[8]["rate"],
        cpu_increment_per_watcher_pct=(med[8]["cpu"] / med[0]["cpu"] - 1) * 100 / 8,
        rate_change_per_watcher_pct=(med[8]["rate"] / med[0]["rate"] - 1) * 100 / 8,
        total_lost=sum(x["lost"] for n in rows for x in rows[n]),
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
