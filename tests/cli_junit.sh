#!/usr/bin/env bash
# JUnit agrees with the exit code for run (a case per call; a failing expectation fails its case)
# attack (the isolation matrix is a suite too) and load (a case per path); an option that does not apply is an error.
set -euo pipefail
txlab=$1 src=$2 out=$3
"$txlab" run "$src/scenarios/direct.yaml" --quiet --junit "$out/run.junit.xml"
set +e
"$txlab" run "$src/tests/data/broken-expectation.yaml" --quiet --junit "$out/broken.junit.xml" 2>/dev/null
rc=$?
"$txlab" lint "$src/scenarios/direct.yaml" --json "$out/x.json" 2>"$out/na.err"
na=$?
"$txlab" run "$src/scenarios/direct.yaml" --strict 2>>"$out/na.err"
na2=$?
set -e
[ "$rc" -eq 1 ] || { echo "broken expectation: expected exit 1, got $rc"; exit 1; }
[ "$na" -eq 2 ] && [ "$na2" -eq 2 ] || { echo "non-applicable options must exit 2 (got $na, $na2)"; exit 1; }
grep -q "does not apply to 'lint'" "$out/na.err"
"$txlab" attack "$src/scenarios/direct.yaml" --junit "$out/attack.junit.xml" >/dev/null
"$txlab" load "$src/scenarios/direct.yaml" --duration 1 --quiet --junit "$out/load.junit.xml" >/dev/null
set +e
# load judges statuses: a call expected to be refused (401) that is expected to pass instead.
sed 's/expect: { status: 401, error: invalid_token }/expect: { status: 200 }/' "$src/scenarios/direct.yaml" >"$out/wrong-status.yaml"
! cmp -s "$src/scenarios/direct.yaml" "$out/wrong-status.yaml" || { echo "the status edit did not apply"; exit 1; }
"$txlab" load "$out/wrong-status.yaml" --duration 1 --quiet --junit "$out/load-broken.junit.xml" >/dev/null 2>&1
lrc=$?
set -e
[ "$lrc" -eq 1 ] || { echo "load of a broken expectation: expected exit 1, got $lrc"; exit 1; }
python3 - "$out" <<'PY'
import sys, xml.etree.ElementTree as ET
out = sys.argv[1]
def counts(path):
    root = ET.parse(path).getroot()
    suites = list(root.iter("testsuite"))
    return sum(int(s.get("tests")) for s in suites), sum(int(s.get("failures")) for s in suites), suites
t, f, _ = counts(f"{out}/run.junit.xml")
assert t == 2 and f == 0, (t, f)
t, f, _ = counts(f"{out}/broken.junit.xml")
assert f >= 1, f
t, f, suites = counts(f"{out}/attack.junit.xml")
assert any(s.get("name") == "trust isolation" for s in suites), [s.get("name") for s in suites]
assert f == 0, f
t, f, _ = counts(f"{out}/load.junit.xml")
assert t >= 1 and f == 0, (t, f)
t, f, _ = counts(f"{out}/load-broken.junit.xml")
assert f >= 1, f
PY
echo "cli junit: ok"
