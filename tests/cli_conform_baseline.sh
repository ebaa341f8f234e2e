#!/usr/bin/env bash
# txlab conform --baseline / --write-baseline on the built-in AS (conformance/configs/builtin.yaml).
#   clean: a baseline of the clean AS, then the clean AS against it (and against an earlier
#          --json): exit 0, nothing worse, better, new or gone.
#   worse: the AS with the caller-in-act convention (RFC 8693 §4.1 NON-STRICT) against the clean
#          AS's baseline: under --strict exit 1 with the worse case named in text, JSON and JUnit;
#          without --strict exit 0 and the change reported as not counted.
#   errors: a malformed baseline, one of another profile: exit 2 with the file and why.
set -euo pipefail
txlab=$1 root=$2 out=$3 mode=$4
mkdir -p "$out"
config="$root/conformance/configs/builtin.yaml"
run() {  # EXPECTED_RC NAME ARGS...: txlab conform ARGS, output in $out/NAME.*
  local want=$1 name=$2 rc
  shift 2
  set +e
  "$txlab" conform "$@" >"$out/$name.txt" 2>"$out/$name.err"
  rc=$?
  set -e
  [ "$rc" -eq "$want" ] || { echo "$name: expected exit $want, got $rc"; tail -n 40 "$out/$name.txt" "$out/$name.err"; exit 1; }
}
case $mode in
clean)
  run 0 write --config "$config" --write-baseline "$out/clean.baseline.json" --json "$out/clean.json"
  grep -q "wrote $out/clean.baseline.json (" "$out/write.err"
  run 0 again --config "$config" --baseline "$out/clean.baseline.json" --json "$out/again.json" --junit "$out/again.junit.xml"
  run 0 from-json --config "$config" --baseline "$out/clean.json" --json "$out/from-json.json"
  python3 - "$out/clean.baseline.json" "$out/again.json" "$out/from-json.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
assert b["txlab_baseline"] == 1 and b["profile"] == "common" and "as-c2p" in b["target"], b.get("target")
assert b["txlab_version"] and len(b["cases"]) > 100, len(b["cases"])
for path in sys.argv[2:]:
    r = json.load(open(path))
    d = r["baseline"]
    assert r["exit_code"] == 0 and d["passed"], path
    assert not any(d[k] for k in ("worse", "better", "changed", "new", "gone")), (path, {k: d[k][:3] for k in d if isinstance(d[k], list)})
    assert d["cases"] == len(b["cases"]), d["cases"]
PY
  grep -q "^NOT WORSE THAN THE BASELINE" "$out/again.txt"
  echo "cli conform baseline clean: ok"
  ;;
worse)
  run 0 write --config "$config" --write-baseline "$out/clean.baseline.json"
  act="$root/scenarios/broker-caller-in-act.yaml"
  run 1 strict --config "$config" --scenario "$act" --strict --baseline "$out/clean.baseline.json" \
    --json "$out/strict.json" --junit "$out/strict.junit.xml"
  sed -n '/^baseline /,/^ *better\|^ *changed\|^NOT\|^WORSE/p' "$out/strict.txt" | grep -q "rfc8693/4.1/sub-is-subject: OK -> NON-STRICT" \
    || { echo "the worse case is not named:"; sed -n '/^baseline /,$p' "$out/strict.txt"; exit 1; }
  grep -q "^WORSE THAN THE BASELINE" "$out/strict.txt"
  run 0 lenient --config "$config" --scenario "$act" --baseline "$out/clean.baseline.json" --json "$out/lenient.json"
  python3 - "$out/strict.json" "$out/strict.junit.xml" "$out/lenient.json" <<'PY'
import json, sys, xml.etree.ElementTree as ET
s = json.load(open(sys.argv[1]))
worse = [c["id"] for c in s["baseline"]["worse"]]
assert s["exit_code"] == 1 and "rfc8693/4.1/sub-is-subject" in worse, worse
failed = [tc.get("name") for tc in ET.parse(sys.argv[2]).getroot().iter("testcase") if tc.find("failure") is not None]
assert sorted(failed) == sorted(worse), (failed, worse)
l = json.load(open(sys.argv[3]))
changed = [c["id"] for c in l["baseline"]["changed"]]
assert l["exit_code"] == 0 and not l["baseline"]["worse"] and "rfc8693/4.1/sub-is-subject" in changed, changed
PY
  echo "cli conform baseline worse: ok ($(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['baseline']['worse']))" "$out/strict.json") cases worse under --strict)"
  ;;
errors)
  printf '{\n  "txlab_baseline": 1,\n  "profile": "common",\n  "cases": {,}\n}\n' >"$out/bad.json"
  run 2 malformed --config "$config" --baseline "$out/bad.json"
  grep -q "bad.json:4:13: error: not JSON" "$out/malformed.err" || { cat "$out/malformed.err"; exit 1; }
  printf '{"txlab_baseline": 1, "profile": "keycloak", "cases": {}}\n' >"$out/keycloak.json"
  run 2 profile --config "$config" --baseline "$out/keycloak.json"
  grep -q "keycloak.json: error: the baseline was graded under profile keycloak, this run under common" "$out/profile.err"
  run 2 missing --config "$config" --baseline "$out/no-such.json"
  grep -q "no-such.json: error: cannot read the --baseline file" "$out/missing.err"
  # An unusable file --write-baseline would rewrite is not overwritten.
  run 2 rewrite --config "$config" --write-baseline "$out/bad.json"
  grep -q '"cases": {,}' "$out/bad.json"
  # A run that is not graded keeps its own exit code (4: unreachable), the baseline not compared.
  printf '{"txlab_baseline": 1, "profile": "common", "cases": {}}\n' >"$out/empty.json"
  run 4 unreachable --token-endpoint http://127.0.0.1:1/token --exchanger-client a:b --baseline "$out/empty.json" \
    --write-baseline "$out/never.json" --json "$out/unreachable.json"
  grep -q "baseline $out/empty.json: not compared, the run was not graded" "$out/unreachable.txt"
  grep -q "not written: the run was not graded" "$out/unreachable.err"
  [ ! -e "$out/never.json" ] && grep -q '"exit_code": 4' "$out/unreachable.json"
  echo "cli conform baseline errors: ok"
  ;;
*) echo "usage: cli_conform_baseline.sh TXLAB ROOT OUT clean|worse|errors"; exit 2 ;;
esac
