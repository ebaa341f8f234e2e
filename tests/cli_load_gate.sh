#!/bin/bash
# txlab load --baseline as a CI gate: a run of direct.yaml is the baseline; the same chain with
# its gw-c2p -> gw-c2pe link 20 ms slower each way exits 1, names the path in the table and in
# JUnit, and the history page of the two runs flags the second; the unchanged chain under a
# 99 % threshold exits 0. Usage: cli_load_gate.sh TXLAB SOURCE_DIR OUT_DIR
set -u
txlab=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
run=("$txlab" load --duration 2 --rate 100 --concurrency 4 --quiet)
"${run[@]}" "$src/scenarios/direct.yaml" --json "$out/base.json" --history "$out/history" --label base >/dev/null ||
  { echo "the baseline run failed"; exit 1; }
"${run[@]}" "$src/tests/data/load-slow-link.yaml" --baseline "$out/base.json" --json "$out/slow.json" \
  --junit "$out/slow.junit.xml" --history "$out/history" --label slow >"$out/slow.txt" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$out/slow.txt"; echo "slowed link: expected exit 1, got $rc"; exit 1; }
grep -Eq "^  CFA reads an order through one exch.* p50 µs .*REGRESSION" "$out/slow.txt" ||
  { cat "$out/slow.txt"; echo "slowed link: the chain's p50 is not flagged"; exit 1; }
grep -q 'failure message="slower than the baseline: p50_us' "$out/slow.junit.xml" ||
  { cat "$out/slow.junit.xml"; echo "slowed link: JUnit does not fail the path"; exit 1; }
grep -q 'data-verdict="REGRESSION"' "$out/history/index.html" ||
  { echo "history: the second run is not flagged"; exit 1; }
python3 - "$out/slow.json" <<'PY' || exit 1
import json, sys
b = json.load(open(sys.argv[1]))["baseline"]
chain = [p for p in b["paths"] if p["name"].startswith("CFA reads")][0]["metrics"]["p50_us"]
assert chain["regressed"] and chain["ci95"][0] > 1.10, chain
PY
"${run[@]}" "$src/scenarios/direct.yaml" --baseline "$out/base.json" --max-regression 99 \
  --max-tail-regression 1000 >"$out/same.txt" 2>&1 ||
  { cat "$out/same.txt"; echo "the unchanged chain under a 99 % threshold: expected exit 0"; exit 1; }
echo "cli load gate: ok"
