#!/usr/bin/env python3
"""Issue 7's benchmark: `taskwatch isolate probe` side by side with oslat on the same CPU
and duration (alternating rounds), the share of gaps over 10 us attributed to a traced
cause, and strict-mode signal latency under `taskwatch isolate run`.

    cargo build --release && sudo python3 bench/isolate_bench.py --cpu 1 --rounds 3
"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def probe(binary, cpu, duration):
    out = subprocess.run([binary, "isolate", "probe", "--cpu", str(cpu), "--duration",
                          f"{duration}s", "--json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def oslat(cpu, duration):
    out = subprocess.run(["oslat", "--cpu-list", str(cpu), "--duration", f"{duration}s"],
                         capture_output=True, text=True, check=True).stdout
    def field(name):
        m = re.search(rf"{name}:\s+([\d.]+)", out)
        return float(m.group(1)) if m else None
    buckets = [int(n) for _, n in re.findall(r"^\s+(\d{3}) \(us\):\s+(\d+)", out, re.M)]
    return {"max_us": field("Maximum"), "avg_us": field("Average"), "buckets": buckets}


def strict_latency(binary, cpu, mode, runs):
    exe = os.path.join(tempfile.gettempdir(), "isolate_strict_latency")
    subprocess.run(["cc", "-O2", "-o", exe, os.path.join(ROOT, "bench", "isolate_strict_latency.c")],
                   check=True)
    shared = os.path.join(tempfile.gettempdir(), "isolate_strict_t0")
    lat = []
    for _ in range(runs):
        out = subprocess.run([binary, "isolate", "run", "--cpu", str(cpu), "--allow-unisolated",
                              "--json", "--", exe, mode, shared], capture_output=True, text=True)
        summary = json.loads(out.stdout.strip().splitlines()[-1])
        v = summary["strict_violations"]
        with open(shared, "rb") as f:
            t0 = int.from_bytes(f.read(8), "little")
        expected = "syscall write" if mode == "write" else "page fault"
        if (summary.get("signal") != 9 or len(v) != 1 or v[0]["signalled_ns"] is None
                or not v[0]["what"].startswith(expected) or t0 == 0):
            print(f"  {mode}: not killed as expected: signal {summary.get('signal')} {v} t0 {t0}",
                  file=sys.stderr)
            continue
        lat.append((v[0]["signalled_ns"] - t0) / 1e3)
    return lat


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpu", type=int, default=1)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--strict-runs", type=int, default=30)
    ap.add_argument("--binary", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "taskwatch"))
    a = ap.parse_args()
    for r in range(a.rounds):
        p = probe(a.binary, a.cpu, a.duration)
        o = oslat(a.cpu, a.duration)
        pb = p["histogram_us"]
        share = 100.0 * p["attributed_over_10us"] / p["gaps_over_10us"] if p["gaps_over_10us"] else 100.0
        unexplained = [c for c in p["causes"] if c["class"] == "unexplained"]
        print(f"round {r + 1}: probe max {p['max_gap_ns'] / 1e3:.1f} us, loops {p['loops']}, "
              f"gaps>1us {p['gaps']} (attributed {p['attributed']}), gaps>10us {p['gaps_over_10us']} "
              f"attributed {p['attributed_over_10us']} = {share:.1f}%, unexplained max "
              f"{max([c['max_ns'] for c in unexplained] or [0]) / 1e3:.1f} us, steal {p['steal_ns']} ns, "
              f"buckets>=2us {sum(pb[1:])} | oslat max {o['max_us']} us avg {o['avg_us']} us, "
              f"buckets>=2us {sum(o['buckets'][1:])}")
        top = sorted(p["causes"], key=lambda c: -c["count"])[:5]
        print("   probe gaps by main cause (count): " +
              ", ".join(f"{c['class']}:{c['detail'][:40]} {c['count']}" for c in top))
    for mode in ("write", "fault"):
        lat = strict_latency(a.binary, a.cpu, mode, a.strict_runs)
        if lat:
            lat.sort()
            print(f"strict {mode}: n={len(lat)} median {statistics.median(lat):.1f} us, "
                  f"p90 {lat[int(0.9 * (len(lat) - 1))]:.1f} us, max {lat[-1]:.1f} us")


if __name__ == "__main__":
    main()
