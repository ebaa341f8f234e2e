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
# A history as the baseline: its newest run of this setup (the slowed one), against two runs
# now of the unchanged chain (faster: exit 0), the runs counted on each side.
"${run[@]}" "$src/scenarios/direct.yaml" --runs 2 --baseline "$out/history" --baseline-last 1 \
  --json "$out/runs.json" >"$out/runs.txt" 2>&1 ||
  { cat "$out/runs.txt"; echo "two runs against the history's newest: expected exit 0"; exit 1; }
grep -q "^runs: 1 in the baseline, 2 now" "$out/runs.txt" ||
  { cat "$out/runs.txt"; echo "the runs on each side are not reported"; exit 1; }
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["runs"] == 2 and {w.get("run") for w in r["paths"][0]["windows"]} == {0, 1}, r["runs"]' "$out/runs.json" || exit 1
mkdir -p "$out/empty"
"${run[@]}" "$src/scenarios/direct.yaml" --baseline "$out/empty" >"$out/empty.txt" 2>&1
rc=$?
[ "$rc" -eq 2 ] && grep -q "no run of scenario" "$out/empty.txt" ||
  { cat "$out/empty.txt"; echo "an empty history as baseline: expected exit 2 naming it, got $rc"; exit 1; }
# --versus: the slowed chain alternated with the unchanged one in one job (pairs): exit 1, the
# comparison says the runs were alternated; fewer than two runs, or with --baseline, exit 2.
"${run[@]}" "$src/tests/data/load-slow-link.yaml" --versus "$src/scenarios/direct.yaml" --runs 2 \
  --json "$out/versus.json" >"$out/versus.txt" 2>&1
rc=$?
[ "$rc" -eq 1 ] && grep -q "alternated" "$out/versus.txt" &&
  grep -Eq "^  CFA reads an order through one exch.* p50 µs .*REGRESSION" "$out/versus.txt" ||
  { cat "$out/versus.txt"; echo "--versus: the slowed chain against the unchanged one: expected exit 1, got $rc"; exit 1; }
python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))["baseline"]; assert b["paired"] and b["baseline_runs"] == 2 and b["current_runs"] == 2, b' "$out/versus.json" || exit 1
"${run[@]}" "$src/scenarios/direct.yaml" --versus "$src/scenarios/direct.yaml" >"$out/versus1.txt" 2>&1
rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--versus needs --runs 2" "$out/versus1.txt" ||
  { cat "$out/versus1.txt"; echo "--versus with one run: expected exit 2, got $rc"; exit 1; }
"${run[@]}" "$src/scenarios/direct.yaml" --versus "$src/scenarios/direct.yaml" --runs 2 \
  --baseline "$out/base.json" >"$out/versus2.txt" 2>&1
rc=$?
[ "$rc" -eq 2 ] && grep -q "alternatives" "$out/versus2.txt" ||
  { cat "$out/versus2.txt"; echo "--versus with --baseline: expected exit 2, got $rc"; exit 1; }
echo "cli load gate: ok"
