#!/usr/bin/env bash
# --strict: NON-STRICT fails the run, and JSON and JUnit say the same as the exit code; JUnit
# class names keep one dot (Jenkins splits on the last one); --progress prints a counter.
set -euo pipefail
txlab=$1 scenario=$2 out=$3
set +e
"$txlab" conform --scenario "$scenario" --target as-c2p --strict --progress --junit "$out/strict.junit.xml" \
  --json "$out/strict.json" >"$out/strict.txt" 2>"$out/strict.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || { echo "expected exit 1 under --strict, got $rc"; exit 1; }
python3 - "$out/strict.json" "$out/strict.junit.xml" <<'PY'
import json, sys, xml.etree.ElementTree as ET
r = json.load(open(sys.argv[1]))
assert r["strict"] is True and r["passed"] is False and r["exit_code"] == 1, (r["strict"], r["passed"], r["exit_code"])
assert r["counts"]["FAILED"] == 0 and r["counts"]["NON-STRICT"] > 0, r["counts"]
root = ET.parse(sys.argv[2]).getroot()
failures = sum(int(s.get("failures")) for s in root.iter("testsuite"))
assert failures == r["counts"]["NON-STRICT"], (failures, r["counts"])
for tc in root.iter("testcase"):
    cls = tc.get("classname")
    assert cls.startswith("txlab.") and cls.count(".") == 1, cls
PY
grep -q "^\[1/" "$out/strict.err" || { echo "no progress lines on stderr"; exit 1; }
# Without --strict the same run passes, and says so.
"$txlab" conform --scenario "$scenario" --target as-c2p --json "$out/lenient.json" >/dev/null
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['passed'] and r['exit_code']==0" "$out/lenient.json"
echo "cli conform strict: ok"
