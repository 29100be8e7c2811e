#!/usr/bin/env python3
"""Benchmark harness: resilix against the serde typed-parse floor, in the same run.

Generates seeded, realistic inputs with the generators beside this file (cached under .bench/),
builds release binaries, then for each input measures wall time and peak RSS of

  * the parse floor (benches/parse_floor.rs: read + typed borrowed parse of resource_changes),
  * `resilix scan INPUT --format sarif -o OUT` with the full built-in catalog,

takes the best of --repeat runs, prints a table and writes it as JSON (--json).

    python3 benches/run.py                       # plans 1k, 10k, 100k; snapshot 10k, 100k
    python3 benches/run.py --plans 1k,10k,50k,100k --snapshots 100k --repeat 5
    python3 benches/run.py --checkov .venv-checkov/bin/checkov   # also time Checkov on <= 10k

Timings on a shared machine vary; compare ratios measured in the same run, not absolutes.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES = ROOT / "benches"


def size(text):
    text = text.strip().lower()
    return int(float(text[:-1]) * 1000) if text.endswith("k") else int(text)


def run_measured(argv, stdout=subprocess.DEVNULL):
    """Runs argv; returns (wall seconds, peak RSS bytes, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss * 1024, proc.returncode


def best_of(repeat, argv):
    runs = [run_measured(argv) for _ in range(repeat)]
    wall = min(r[0] for r in runs)
    rss = min(r[1] for r in runs)
    return wall, rss, runs[-1][2]


def generate(kind, n, cache):
    cache.mkdir(parents=True, exist_ok=True)
    if kind == "plan":
        out = cache / f"plan-{n}.json"
        script = BENCHES / "gen_plan.py"
    else:
        out = cache / f"snapshot-{n}.json"
        script = BENCHES / "gen_config_snapshot.py"
    if not out.exists():
        print(f"generating {out.name} …", file=sys.stderr)
        tmp = out.with_suffix(".tmp")
        subprocess.run([sys.executable, str(script), "--resources", str(n), "--seed", "1", "--out", str(tmp)],
                       check=True, stderr=subprocess.DEVNULL)
        tmp.rename(out)
    return out


def findings(sarif_path):
    with open(sarif_path) as f:
        log = json.load(f)
    results = log["runs"][0]["results"]
    return sum(1 for r in results if r.get("kind") == "fail"), sum(1 for r in results if r.get("kind") == "review")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plans", default="1k,10k,100k")
    ap.add_argument("--snapshots", default="10k,100k")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cache", default=str(ROOT / ".bench"))
    ap.add_argument("--json", default=str(ROOT / ".bench" / "results.json"))
    ap.add_argument("--jobs", default=None, help="resilix --jobs (default: all CPUs)")
    ap.add_argument("--checkov", default=None, help="path of a checkov executable to time on plans <= 10k")
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    cache = Path(args.cache)

    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "resilix", "--example", "parse-floor"],
                       cwd=ROOT, check=True)
    resilix = ROOT / "target" / "release" / "resilix"
    floor = ROOT / "target" / "release" / "examples" / "parse-floor"
    out = cache / "out.sarif"
    jobs = ["--jobs", args.jobs] if args.jobs else []

    rows = []
    inputs = [("plan", size(s)) for s in args.plans.split(",") if s] + \
             [("snapshot", size(s)) for s in args.snapshots.split(",") if s]
    for kind, n in inputs:
        path = generate(kind, n, cache)
        row = {"input": kind, "resources": n, "bytes": path.stat().st_size}
        subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # page cache
        if kind == "plan":
            wall, rss, code = best_of(args.repeat, [str(floor), str(path)])
            row.update(floor_wall=wall, floor_rss=rss)
        wall, rss, code = best_of(args.repeat, [str(resilix), "scan", str(path), "--format", "sarif", "-o", str(out),
                                               "--fail-on", "never", "-q", *jobs])
        if code != 0:
            print(f"resilix exited {code} on {path}", file=sys.stderr)
        fail, review = findings(out)
        row.update(resilix_wall=wall, resilix_rss=rss, findings=fail, review=review, exit=code)
        if args.checkov and kind == "plan" and n <= 10000:
            wall, rss, _ = run_measured([args.checkov, "-f", str(path), "--framework", "terraform_plan",
                                         "-o", "sarif", "--output-file-path", str(cache), "--skip-download", "--quiet"])
            row.update(checkov_wall=wall, checkov_rss=rss)
        rows.append(row)
        print(format_row(row), file=sys.stderr)

    print_table(rows)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"machine": machine(), "rows": rows}, f, indent=2)
    print(f"\nwritten {args.json}")


def mb(n):
    return f"{n / 1e6:,.0f} MB"


def format_row(r):
    return f"{r['input']} {r['resources']}: resilix {r['resilix_wall']:.3f} s"


def print_table(rows):
    head = "| input | resources | file | parse floor | resilix | × floor | peak RSS | RSS / file | findings (fail / review) |"
    print(head)
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        floor = r.get("floor_wall")
        ratio = f"{r['resilix_wall'] / floor:.2f}×" if floor else "—"
        print(f"| {r['input']} | {r['resources']:,} | {mb(r['bytes'])} | "
              f"{f'{floor:.3f} s' if floor else '—'} | {r['resilix_wall']:.3f} s | {ratio} | "
              f"{mb(r['resilix_rss'])} | {r['resilix_rss'] / r['bytes']:.2f} | {r['findings']:,} / {r['review']:,} |")
    if any("checkov_wall" in r for r in rows):
        print("\n| plan | checkov | resilix | speed-up |\n|---|---|---|---|")
        for r in rows:
            if "checkov_wall" in r:
                print(f"| {r['resources']:,} | {r['checkov_wall']:.1f} s | {r['resilix_wall']:.3f} s | "
                      f"{r['checkov_wall'] / r['resilix_wall']:.0f}× |")


def machine():
    info = {"cpus": os.cpu_count()}
    try:
        info["rustc"] = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    return info


if __name__ == "__main__":
    main()
