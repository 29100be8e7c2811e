#!/usr/bin/env python3
"""Benchmark harness: resilix against the serde typed-parse floor, in the same run.

Generates seeded, realistic inputs with the generators beside this file (cached under .bench/),
builds release binaries, then for each input measures wall time, CPU time (user + sys) and peak
RSS of

  * the parse floor (benches/parse_floor.rs: read + typed borrowed parse of resource_changes),
  * `resilix scan INPUT --format sarif -o OUT` with the full built-in catalog,

keeping the run with the best wall time of --repeat runs. It prints a table, the targets of
issue 7 measured in this run, and the scaling curve (CPU time per resource and per applicable
(resource, policy) pair, counted from one extra JSON report per input), and writes all of it
as JSON (--json).

Start-up (issue 19): `scan` of the tiny plan fixtures/examples/plan.json (SARIF written),
`policies list` and `--version`, each run --startup-repeat times (interleaved with the baseline
binary when one is given), best and median of wall and CPU time. The goal table of issue 19
follows, with a "met" column, and before (--baseline-bin) and after columns from this one run.

    python3 benches/run.py                       # plans 1k, 10k, 50k, 100k; snapshots 10k, 100k
    python3 benches/run.py --plans 10k --snapshots '' --repeat 5
    python3 benches/run.py --checkov .venv-checkov/bin/checkov   # also time Checkov on <= 10k
    python3 benches/run.py --baseline-bin /tmp/resilix-before    # another resilix build, same inputs
    python3 benches/run.py --plans '' --snapshots '' --baseline-bin /tmp/resilix-before  # start-up only

The machine may be shared: wall times move with its load, CPU times much less. Compare ratios
measured in the same run (the floor is measured right before resilix on every input).
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES = ROOT / "benches"

# Issue 7's targets.
TARGET_10K_WALL = 0.25          # s, 10,000-resource plan
TARGET_FLOOR_RATIO = 3.0        # × the parse floor, 100,000-resource plan
TARGET_RSS_RATIO = 1.5          # × the file size, 100,000-resource plan
TARGET_SNAPSHOT_WALL = 1.5      # s, 100,000-item AWS Config snapshot

# Issue 19's goals.
GOAL_STARTUP_WALL = 0.010       # s: tiny plan scan, `policies list`, `--version`
GOAL_1K_FLOOR = 2.0             # × the parse floor, 1,000-resource plan
GOAL_10K_FLOOR = 1.5            # × the parse floor, 10,000-resource plan
GOAL_100K_FLOOR = 2.0           # × the parse floor, 100,000-resource plan
GOAL_100K_RSS = 1.2             # × the file, 100,000-resource plan
GOAL_PAIR_CPU = 3e-6            # s of CPU per (resource, policy) pair
TINY_PLAN = ROOT / "fixtures" / "examples" / "plan.json"


def size(text):
    text = text.strip().lower()
    return int(float(text[:-1]) * 1000) if text.endswith("k") else int(text)


def run_measured(argv):
    """Runs argv; returns wall seconds, CPU seconds (user + sys), peak RSS bytes, exit code."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss": usage.ru_maxrss * 1024,
        "exit": os.waitstatus_to_exitcode(status),
    }


def best_of(repeat, argv):
    """The run with the best wall time (the least disturbed by other work on the machine)."""
    runs = [run_measured(argv) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["wall"])
    best["rss"] = min(r["rss"] for r in runs)
    return best


def median(values):
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def startup_cases(cache):
    """The start-up commands of issue 19: (name, arguments after the binary)."""
    return [
        ("scan of the tiny plan", ["scan", str(TINY_PLAN), "--format", "sarif", "-o", str(cache / "tiny.sarif"),
                                   "--fail-on", "never", "-q"]),
        ("policies list", ["policies", "list"]),
        ("--version", ["--version"]),
    ]


def startup(binaries, repeat, cache):
    """Times each start-up case on each binary, interleaved run by run (so that load on a shared
    machine falls alike on all); best and median wall and CPU time per (case, binary)."""
    out = []
    for name, argv in startup_cases(cache):
        runs = {label: [] for label, _ in binaries}
        for label, binary in binaries:  # one warm-up each: page cache, dynamic loader
            run_measured([str(binary), *argv])
        for _ in range(repeat):
            for label, binary in binaries:
                runs[label].append(run_measured([str(binary), *argv]))
        row = {"case": name, "argv": argv}
        for label, measured in runs.items():
            if any(r["exit"] not in (0, 1) for r in measured):
                print(f"{label}: `{' '.join(argv)}` exited {measured[0]['exit']}", file=sys.stderr)
            walls, cpus = [r["wall"] for r in measured], [r["cpu"] for r in measured]
            row[label] = {"wall_best": min(walls), "wall_median": median(walls),
                          "cpu_best": min(cpus), "cpu_median": median(cpus), "runs": len(measured)}
        out.append(row)
    return out


def print_startup(rows):
    if not rows:
        return
    labels = [k for k in ("baseline", "resilix") if k in rows[0]]
    head = " | ".join(f"{label} wall best / median | {label} CPU best / median" for label in labels)
    print(f"\n| start-up | {head} |")
    print("|---|" + "---|---|" * len(labels))
    for r in rows:
        cells = " | ".join(f"{r[l]['wall_best'] * 1e3:.1f} / {r[l]['wall_median'] * 1e3:.1f} ms | "
                           f"{r[l]['cpu_best'] * 1e3:.1f} / {r[l]['cpu_median'] * 1e3:.1f} ms" for l in labels)
        print(f"| {r['case']} | {cells} |")


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


def in_child(code, path):
    """Runs `code` over the JSON file at `path` in a child Python and returns what it prints.

    The parent must stay small: a child's peak RSS (ru_maxrss) starts from its parent's size at
    fork, so loading a large report here would inflate every later measurement.
    """
    out = subprocess.run([sys.executable, "-c", "import json, sys\n"
                          "with open(sys.argv[1]) as f: d = json.load(f)\n" + code, str(path)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def sarif_counts(path):
    return tuple(in_child(
        "r = d['runs'][0]['results']\n"
        "print(json.dumps([sum(1 for x in r if x.get('kind') == k) for k in ('fail', 'review')]))",
        path))


def summary(resilix, path, out, jobs):
    """The JSON report's summary: how many (resource, policy) pairs were evaluated."""
    subprocess.run([str(resilix), "scan", str(path), "--format", "json", "-o", str(out),
                    "--fail-on", "never", "-q", *jobs], check=True)
    s = in_child("print(json.dumps(d['summary']))", out)
    return {
        "evaluated_resources": s["evaluated"],
        "pairs": s["passed"] + s["failed"] + s["review"] + s["errors"],
        "findings": s["failed"] + s["review"],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plans", default="1k,10k,50k,100k")
    ap.add_argument("--snapshots", default="10k,100k")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cache", default=str(ROOT / ".bench"))
    ap.add_argument("--json", default=str(ROOT / ".bench" / "results.json"))
    ap.add_argument("--jobs", default=None, help="resilix --jobs (default: all CPUs)")
    ap.add_argument("--checkov", default=None, help="path of a checkov executable to time on plans <= 10k")
    ap.add_argument("--baseline-bin", default=None,
                    help="another resilix binary (an earlier commit) to time on every input, beside this one")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--startup-repeat", type=int, default=21,
                    help="runs of each start-up case per binary (0: no start-up case)")
    args = ap.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)

    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "resilix", "--example", "parse-floor"],
                       cwd=ROOT, check=True)
    resilix = ROOT / "target" / "release" / "resilix"
    floor = ROOT / "target" / "release" / "examples" / "parse-floor"
    out = cache / "out.sarif"
    jobs = ["--jobs", args.jobs] if args.jobs else []

    binaries = [("resilix", resilix)] + ([("baseline", args.baseline_bin)] if args.baseline_bin else [])
    startup_rows = startup(binaries, args.startup_repeat, cache) if args.startup_repeat > 0 else []

    rows = []
    inputs = [("plan", size(s)) for s in args.plans.split(",") if s] + \
             [("snapshot", size(s)) for s in args.snapshots.split(",") if s]
    for kind, n in inputs:
        path = generate(kind, n, cache)
        row = {"input": kind, "resources": n, "bytes": path.stat().st_size}
        subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # page cache
        if kind == "plan":
            row["floor"] = best_of(args.repeat, [str(floor), str(path)])
        run = best_of(args.repeat, [str(resilix), "scan", str(path), "--format", "sarif", "-o", str(out),
                                    "--fail-on", "never", "-q", *jobs])
        if run["exit"] != 0:
            print(f"resilix exited {run['exit']} on {path}", file=sys.stderr)
        row["resilix"] = run
        if args.baseline_bin:
            row["baseline"] = best_of(args.repeat, [args.baseline_bin, "scan", str(path), "--format", "sarif",
                                                    "-o", str(cache / "baseline.sarif"), "--fail-on", "never",
                                                    "-q", *jobs])
        row["sarif_fail"], row["sarif_review"] = sarif_counts(out)
        row.update(summary(resilix, path, cache / "out.json", jobs))
        if args.checkov and kind == "plan" and n <= 10000:
            row["checkov"] = run_measured([args.checkov, "-f", str(path), "--framework", "terraform_plan",
                                           "-o", "sarif", "--output-file-path", str(cache), "--skip-download",
                                           "--quiet"])
        rows.append(row)
        print(f"{kind} {n}: resilix {run['wall']:.3f} s wall, {run['cpu']:.3f} s CPU", file=sys.stderr)

    if rows:
        print_table(rows)
    targets = check_targets(rows)
    print_targets(targets)
    print_curve(rows)
    print_startup(startup_rows)
    goals = check_goals(rows, startup_rows)
    print_goals(goals)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"machine": machine(), "rows": rows, "targets": targets, "startup": startup_rows,
                   "goals": goals}, f, indent=2)
    print(f"\nwritten {args.json}")


def mb(n):
    return f"{n / 1e6:,.0f} MB"


def print_table(rows):
    print("| input | resources | file | floor wall / CPU | resilix wall / CPU | wall × floor | "
          "peak RSS | RSS / file | findings (SARIF fail / review) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        f, x = r.get("floor"), r["resilix"]
        floor = f"{f['wall']:.3f} / {f['cpu']:.3f} s" if f else "—"
        ratio = f"{x['wall'] / f['wall']:.2f}×" if f else "—"
        print(f"| {r['input']} | {r['resources']:,} | {mb(r['bytes'])} | {floor} | "
              f"{x['wall']:.3f} / {x['cpu']:.3f} s | {ratio} | {mb(x['rss'])} | {x['rss'] / r['bytes']:.2f} | "
              f"{r['sarif_fail']:,} / {r['sarif_review']:,} |")
    if any("baseline" in r for r in rows):
        print("\n| input | resources | baseline wall / CPU / RSS | resilix wall / CPU / RSS | wall ratio |\n"
              "|---|---|---|---|---|")
        for r in rows:
            if "baseline" in r:
                b, x = r["baseline"], r["resilix"]
                print(f"| {r['input']} | {r['resources']:,} | {b['wall']:.3f} s / {b['cpu']:.3f} s / {mb(b['rss'])} | "
                      f"{x['wall']:.3f} s / {x['cpu']:.3f} s / {mb(x['rss'])} | {x['wall'] / b['wall']:.2f}× |")
    if any("checkov" in r for r in rows):
        print("\n| plan | checkov | resilix | speed-up |\n|---|---|---|---|")
        for r in rows:
            if "checkov" in r:
                print(f"| {r['resources']:,} | {r['checkov']['wall']:.1f} s | {r['resilix']['wall']:.3f} s | "
                      f"{r['checkov']['wall'] / r['resilix']['wall']:.0f}× |")


def check_targets(rows):
    def row(kind, n):
        return next((r for r in rows if r["input"] == kind and r["resources"] == n), None)

    out = []
    r = row("plan", 10000)
    if r:
        out.append({"target": "10k plan: wall < 0.25 s", "measured": f"{r['resilix']['wall']:.3f} s",
                    "met": r["resilix"]["wall"] < TARGET_10K_WALL})
    r = row("plan", 100000)
    if r:
        ratio = r["resilix"]["wall"] / r["floor"]["wall"]
        out.append({"target": "100k plan: wall < 3× the parse floor",
                    "measured": f"{r['resilix']['wall']:.3f} s = {ratio:.2f}× floor ({r['floor']['wall']:.3f} s)",
                    "met": ratio < TARGET_FLOOR_RATIO})
        cpu_ratio = r["resilix"]["cpu"] / r["floor"]["cpu"]
        out.append({"target": "100k plan: CPU time × the floor's (not a target; load-independent)",
                    "measured": f"{cpu_ratio:.2f}×", "met": None})
        rss = r["resilix"]["rss"] / r["bytes"]
        out.append({"target": "100k plan: peak RSS < 1.5× the file",
                    "measured": f"{mb(r['resilix']['rss'])} = {rss:.2f}× {mb(r['bytes'])}",
                    "met": rss < TARGET_RSS_RATIO})
    r = row("snapshot", 100000)
    if r:
        out.append({"target": "100k AWS Config snapshot: wall < 1.5 s", "measured": f"{r['resilix']['wall']:.3f} s",
                    "met": r["resilix"]["wall"] < TARGET_SNAPSHOT_WALL})
    return out


def print_targets(targets):
    if not targets:
        return
    print("\n| target | measured | met |\n|---|---|---|")
    for t in targets:
        met = "—" if t["met"] is None else ("yes" if t["met"] else "**no**")
        print(f"| {t['target']} | {t['measured']} | {met} |")


def check_goals(rows, startup_rows):
    """Issue 19's goal table: per goal, the baseline's figure ("before", when measured), this
    build's ("after") and whether this build meets it."""
    def row(kind, n):
        return next((r for r in rows if r["input"] == kind and r["resources"] == n), None)

    def both(fmt, value, limit):
        out = {}
        for label, key in (("baseline", "before"), ("resilix", "after")):
            v = value(label)
            if v is not None:
                out[key] = fmt(v)
                if label == "resilix":
                    out["met"] = v <= limit
        return out

    goals = []
    for r in startup_rows:
        goals.append({"goal": f"{r['case']}: ≤ {GOAL_STARTUP_WALL * 1e3:.0f} ms wall (median)",
                      **both(lambda v: f"{v * 1e3:.1f} ms", lambda l, r=r: r.get(l, {}).get("wall_median"),
                             GOAL_STARTUP_WALL)})
    for n, limit in ((1000, GOAL_1K_FLOOR), (10000, GOAL_10K_FLOOR), (100000, GOAL_100K_FLOOR)):
        r = row("plan", n)
        if r:
            goals.append({"goal": f"{n // 1000}k plan: ≤ {limit}× the parse floor (wall)",
                          **both(lambda v: f"{v:.2f}×", lambda l, r=r: r[l]["wall"] / r["floor"]["wall"]
                                 if l in r else None, limit)})
    r = row("plan", 100000)
    if r:
        goals.append({"goal": f"100k plan: peak RSS ≤ {GOAL_100K_RSS}× the file",
                      **both(lambda v: f"{v:.2f}×", lambda l: r[l]["rss"] / r["bytes"] if l in r else None,
                             GOAL_100K_RSS)})
    plans = [r for r in rows if r["input"] == "plan" and r["pairs"]]
    if plans:
        r = max(plans, key=lambda r: r["resources"])
        goals.append({"goal": f"CPU per (resource, policy) pair ≤ {GOAL_PAIR_CPU * 1e6:.0f} µs "
                              f"({r['resources'] // 1000}k plan, pairs of this build)",
                      **both(lambda v: f"{v * 1e6:.2f} µs", lambda l: r[l]["cpu"] / r["pairs"] if l in r else None,
                             GOAL_PAIR_CPU)})
    goals.append({"goal": "`resilix audit`, 10k resources, 100 ms API latency: ≤ 2 s by default",
                  "after": "not measured here", "met": None})
    return goals


def print_goals(goals):
    print("\n| goal (issue 19) | before | after | met |\n|---|---|---|---|")
    for g in goals:
        met = "—" if g.get("met") is None else ("yes" if g["met"] else "**no**")
        print(f"| {g['goal']} | {g.get('before', '—')} | {g.get('after', '—')} | {met} |")


def print_curve(rows):
    plans = [r for r in rows if r["input"] == "plan"]
    if len(plans) < 2:
        return
    print("\n| plan | (resource, policy) pairs | resilix CPU | CPU per pair | floor CPU | CPU − floor per pair |")
    print("|---|---|---|---|---|---|")
    for r in plans:
        cpu, pairs = r["resilix"]["cpu"], max(r["pairs"], 1)
        extra = cpu - r["floor"]["cpu"]
        print(f"| {r['resources']:,} | {r['pairs']:,} | {cpu:.3f} s | {cpu / pairs * 1e6:.2f} µs | "
              f"{r['floor']['cpu']:.3f} s | {extra / pairs * 1e6:.2f} µs |")


def machine():
    info = {"cpus": os.cpu_count(), "loadavg_at_end": os.getloadavg()}
    try:
        info["rustc"] = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    return info


if __name__ == "__main__":
    main()
