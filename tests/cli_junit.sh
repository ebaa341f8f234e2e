#!/usr/bin/env bash
# JUnit agrees with the exit code for run (a case per call; a failing expectation fails its case)
# and attack (the isolation matrix is a suite too); an option that does not apply is an error.
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
PY
echo "cli junit: ok"
