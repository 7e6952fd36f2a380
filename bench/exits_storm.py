#!/usr/bin/env python3
"""Exit storm for `taskwatch exits`: records for every exit with the per-CPU shards, side by
side with one all-CPU listener at the kernel's default buffer, runs alternated.

Each round runs the storm (bench/storm.py's workload: WORKERS x CHILDREN forks that exit)
under `taskwatch exits --json` (default: one shard per CPU, 32 MiB each) and under
`taskwatch exits --json --shards 1 --rcvbuf 208K` (one listener for all CPUs at the
default rmem size), and counts the records of the storm's children, the losses
reported, and taskwatch's CPU time per record.

Usage: cargo build --release -p taskwatch
       sudo python3 bench/exits_storm.py [--rounds 3] [--workers 2] [--children 15000]
"""
import argparse, json, os, signal, statistics, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import storm  # noqa: E402

TASKWATCH = os.path.join(storm.HERE, "..", "target", "release", "taskwatch")
MODES = {"shards": [], "single-208K": ["--shards", "1", "--rcvbuf", "208K"]}


def start(extra, out_path):
    out = open(out_path, "wb")
    env = dict(os.environ, TASKWATCH_LOG="info")
    p = storm.subprocess.Popen([TASKWATCH, "exits", "--json", *extra], stdout=out,
                               stderr=storm.subprocess.PIPE, env=env)
    for line in p.stderr:
        if b"watching" in line:
            break
    else:
        sys.exit("taskwatch exits did not start")
    return p, out


def count(out_path, workers):
    records, lost, lines = 0, 0, 0
    with open(out_path) as f:
        for line in f:
            lines += 1
            e = json.loads(line)
            if e.get("event") == "lost":
                lost += e["count"]
            elif e.get("ppid") in workers:
                records += 1
    return records, lost, lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--children", type=int, default=15000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="exits-storm-")
    worker, true = storm.build(tmp)
    expected = a.workers * a.children
    rows = {m: [] for m in MODES}
    for r in range(a.rounds):
        for mode, extra in MODES.items():
            out_path = os.path.join(tmp, f"{mode}-{r}.json")
            p, out = start(extra, out_path)
            cpu0 = storm.cpu_ns(p.pid)
            pids, rate = storm.storm(worker, true, a.workers, a.children)
            time.sleep(0.5)
            cpu = storm.cpu_ns(p.pid) - cpu0
            p.send_signal(signal.SIGTERM)
            p.wait()
            out.close()
            records, lost, lines = count(out_path, set(pids))
            row = dict(records=records, lost=lost, rate=rate, cpu_per_record_ns=cpu / max(lines, 1))
            rows[mode].append(row)
            print(f"round {r + 1} {mode:>12}: records {records}/{expected} ({100 * records / expected:.1f}%), "
                  f"lost reported {lost}, {rate:,.0f} children/s, {row['cpu_per_record_ns']:.0f} ns CPU/record",
                  flush=True)
    summary = {m: dict(median_records_pct=100 * statistics.median(x["records"] for x in rows[m]) / expected,
                       median_cpu_per_record_ns=statistics.median(x["cpu_per_record_ns"] for x in rows[m]),
                       total_lost_reported=sum(x["lost"] for x in rows[m]),
                       all_accounted=all(x["records"] + x["lost"] >= expected for x in rows[m]))
               for m in rows}
    summary.update(workers=a.workers, children=a.children, rounds=a.rounds)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
