#!/usr/bin/env python3
"""Compares a `txlab conform --json` run with a pinned grade table.

usage: pinned_grades.py RUN.json PINNED.json [update]
With `update`, prints the run's grades as a new table body instead (keep the why_failed texts).
Every FAILED in the pinned table must carry the RFC text that supports it (why_failed).
"""
import json
import sys

run = json.load(open(sys.argv[1]))
got = {c["id"]: c["grade"] for c in run["cases"]}
if len(sys.argv) > 3 and sys.argv[3]:
    print(json.dumps(got, indent=1, sort_keys=True))
    sys.exit(0)
pinned = json.load(open(sys.argv[2]))
if run["verdict"] != "graded":
    print("FAIL: the run was not graded:", run["verdict"], run.get("verdict_detail", ""))
    sys.exit(1)
want = pinned["grades"]
diff = [f"{i}: pinned {want.get(i)}, got {got.get(i)}" for i in sorted(set(want) | set(got)) if want.get(i) != got.get(i)]
missing_why = [i for i, g in want.items() if g == "FAILED" and not pinned["why_failed"].get(i)]
if diff or missing_why:
    print("\n".join(diff))
    if missing_why:
        print("FAILED without a written reason:", missing_why)
    sys.exit(1)
counts = {}
for g in got.values():
    counts[g] = counts.get(g, 0) + 1
print(f"{pinned.get('target', 'target')}: grades match the pinned table:", counts)
