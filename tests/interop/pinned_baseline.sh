# The project's vendor pins as txlab conform baselines (tests/interop/baselines/*.json). Source
# it and call
#
#   pinned_conform OUT_PREFIX BASELINE TXLAB conform ARGS...
#
# It runs the conform command with --baseline BASELINE (JSON, JUnit and text at OUT_PREFIX.*)
# and expects exit 0: no case worse than the pin. Users get that ratchet; the project's own pins
# must not drift the other way either, so anything better, changed, new or gone fails too (a
# vendor's improvement is a visible re-pin). Every FAILED in the pin must carry a "reason" (the
# RFC text behind it). UPDATE=1 re-pins with --write-baseline (reasons of unchanged grades kept)
# and lists the FAILED cases that still need a reason.
pinned_conform() {
  local prefix=$1 baseline=$2 rc
  shift 2
  if [ -n "${UPDATE:-}" ]; then
    set +e
    "$@" --write-baseline "$baseline" --json "$prefix.json" --quiet >"$prefix.txt" 2>&1
    rc=$?
    set -e
    [ "$rc" -le 1 ] || { echo "FAIL: the run was not graded (exit $rc); the pin is unchanged"; tail -30 "$prefix.txt"; return 1; }
    grep "wrote $baseline" "$prefix.txt" || true
  else
    set +e
    "$@" --baseline "$baseline" --json "$prefix.json" --junit "$prefix.junit.xml" --quiet >"$prefix.txt" 2>&1
    rc=$?
    set -e
    if [ "$rc" -ne 0 ]; then
      echo "FAIL: expected exit 0 against the pinned baseline $baseline, got $rc"
      if grep -q "^baseline " "$prefix.txt"; then sed -n '/^baseline /,$p' "$prefix.txt"; else tail -30 "$prefix.txt"; fi
      echo "(UPDATE=1 re-pins; give every new FAILED a reason)"
      return 1
    fi
  fi
  python3 - "$baseline" "$prefix.json" "${UPDATE:-}" <<'PY'
import json, sys
pin, run, update = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
bad = []
unexplained = sorted(i for i, c in pin["cases"].items() if c["grade"] == "FAILED" and not c.get("reason"))
if unexplained:
    bad.append(f"FAILED without a reason in {sys.argv[1]} (write the RFC text behind it): {unexplained}")
if not update:
    drift = run["baseline"]
    for kind in ("better", "changed", "new", "gone"):
        for c in drift[kind]:
            bad.append(f"{kind}: {c['id']}: {c['why']}")
    if drift["worse"]:
        bad.append(f"worse: {[c['id'] for c in drift['worse']]}")
if bad:
    print(f"FAIL: {sys.argv[1]}" + ("" if update else " (UPDATE=1 re-pins)") + ":")
    print("\n".join("  " + b for b in bad[:30]) + (f"\n  ... and {len(bad) - 30} more" if len(bad) > 30 else ""))
    sys.exit(1)
counts = {}
for c in run["cases"]:
    counts[c["grade"]] = counts.get(c["grade"], 0) + 1
print(f"{pin.get('description') or pin.get('target')}: " + ("re-pinned" if update else "grades match the pinned baseline") + f": {counts}")
PY
}
