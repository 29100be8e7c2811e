#!/usr/bin/env python3
"""Per-policy verdicts of two resilix builds over the same inputs: what a change moved.

    python3 benches/corpus_verdicts.py BEFORE_BIN AFTER_BIN DIR [DIR ...]

Scans each DIR with each binary (`scan DIR --format junit --fail-on never`), counts the JUnit
test cases per policy (failure or error = fail, skipped = review, otherwise pass) and prints the
totals and, as a Markdown table, every policy whose fail/review/pass counts differ. Used for
the corpus figures of closing notes (e.g. DIR = ../shared/corpus/terraform-plans).
"""
import collections
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path


def counts(binary, directory):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.xml"
        run = subprocess.run(
            [binary, "scan", directory, "--format", "junit", "--fail-on", "never", "--output", str(out)],
            capture_output=True, text=True,
        )
        if run.returncode != 0 or not out.exists():
            sys.exit(f"{binary} scan {directory}: exit {run.returncode}\n{run.stderr}")
        tally = collections.defaultdict(lambda: [0, 0, 0])
        for case in ET.parse(out).getroot().iter("testcase"):
            policy = case.get("classname") or case.get("name")
            if case.find("failure") is not None or case.find("error") is not None:
                tally[policy][0] += 1
            elif case.find("skipped") is not None:
                tally[policy][1] += 1
            else:
                tally[policy][2] += 1
        return tally


def show(value):
    return "/".join(map(str, value)) if value else "—"


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    before_bin, after_bin, *directories = sys.argv[1:]
    for directory in directories:
        before, after = counts(before_bin, directory), counts(after_bin, directory)
        total = lambda t: [sum(v[i] for v in t.values()) for i in range(3)]
        print(f"## {directory}\n")
        print(f"fail/review/pass: {show(total(before))} -> {show(total(after))}\n")
        print("| policy | before | after |\n|---|---|---|")
        for policy in sorted(set(before) | set(after)):
            if before.get(policy) != after.get(policy):
                print(f"| `{policy}` | {show(before.get(policy))} | {show(after.get(policy))} |")
        print()


if __name__ == "__main__":
    main()
