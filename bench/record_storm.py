#!/usr/bin/env python3
"""History storm: `taskwatch record` during the storm (WORKERS x CHILDREN fork+exec+exit),
rounds alternated with the storm alone as the baseline rate.

Counts the storm children's lifetimes in the database (expected: all of them, each with
its exe — storm_true for the half that exec, the worker's for the half that only fork —
and taskstats), the losses record reports, record's CPU per lifetime, bytes per
lifetime on disk, and how long `history --top cpu 10 --since 1h` takes on the result.

Usage: cargo build --release -p taskwatch
       sudo python3 bench/record_storm.py [--rounds 3] [--workers 2] [--children 15000]
"""
import argparse, os, signal, sqlite3, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import storm  # noqa: E402

TASKWATCH = os.path.join(storm.HERE, "..", "target", "release", "taskwatch")


def start_record(db):
    env = dict(os.environ, TASKWATCH_LOG="info")
    p = subprocess.Popen([TASKWATCH, "record", "--db", db], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=env, text=True)
    for line in p.stderr:
        if "watching" in line:
            return p
    sys.exit("taskwatch record did not start")


def stop_record(p):
    cpu = storm.cpu_ns(p.pid)
    p.send_signal(signal.SIGTERM)
    rest = p.stderr.read()
    p.wait()
    summary = [l for l in rest.splitlines() if l.startswith("recorded ")]
    return cpu, summary[0] if summary else rest


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--children", type=int, default=15000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="record-storm-")
    worker, true = storm.build(tmp)
    expected = a.workers * a.children
    base_rates, rows = [], []
    for r in range(a.rounds):
        _, rate = storm.storm(worker, true, a.workers, a.children)
        base_rates.append(rate)
        db = os.path.join(tmp, f"round{r}.db")
        p = start_record(db)
        pids, rate = storm.storm(worker, true, a.workers, a.children)
        time.sleep(0.5)  # let the last exits' statistics arrive before stopping
        cpu, summary = stop_record(p)
        con = sqlite3.connect(db)
        marks = ",".join("?" * len(pids))
        found, with_exe, with_stats = con.execute(
            f"SELECT count(*), sum(exe IN (?, ?)), sum(utime_us IS NOT NULL) FROM lifetime "
            f"WHERE ppid IN ({marks})", [true, worker, *pids]).fetchone()
        total = con.execute("SELECT count(*) FROM lifetime").fetchone()[0]
        con.close()
        size = sum(os.path.getsize(db + s) for s in ("", "-wal") if os.path.exists(db + s))
        t0 = time.monotonic()
        subprocess.run([TASKWATCH, "history", "--db", db, "--top", "cpu", "10", "--since", "1h"],
                       check=True, stdout=subprocess.DEVNULL)
        query_ms = (time.monotonic() - t0) * 1e3
        row = dict(found=found, exe=with_exe, stats=with_stats, rate=rate, cpu_us=cpu / 1e3 / max(total, 1),
                   bytes=size / max(total, 1), query_ms=query_ms, summary=summary)
        rows.append(row)
        print(f"round {r}: baseline {base_rates[-1]:.0f}/s, with record {rate:.0f}/s; "
              f"{found}/{expected} lifetimes ({with_exe} with exe, {with_stats} with taskstats); "
              f"{row['cpu_us']:.1f} us CPU per lifetime; {row['bytes']:.0f} B per lifetime "
              f"(db+wal); top query {query_ms:.1f} ms\n  {summary}", flush=True)
    med = lambda k: statistics.median(r[k] for r in rows)
    print(f"\nmedian of {a.rounds}: storm {statistics.median(base_rates):.0f}/s alone, "
          f"{med('rate'):.0f}/s recorded (ratio {med('rate') / statistics.median(base_rates):.2f}); "
          f"lifetimes {med('found'):.0f}/{expected}; CPU {med('cpu_us'):.1f} us/lifetime; "
          f"{med('bytes'):.0f} B/lifetime; history --top cpu 10 --since 1h {med('query_ms'):.1f} ms")


if __name__ == "__main__":
    main()
