#!/usr/bin/env bash
# scenarios/vendors/spring-direct.yaml against its own Spring Authorization Server (started here
# with --txlab.audience-from-request=true, stopped on exit): the chain must PASS and the trace
# must show SAS's own tokens verified by txlab's gateways and PBA.
set -euo pipefail
txlab=$1 state=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd) root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
trap 'bash "$here/spring_as.sh" stop "$state" >/dev/null 2>&1 || true' EXIT
SPRING_AS_ARGS=--txlab.audience-from-request=true bash "$here/spring_as.sh" start "$state"
export TXLAB_SPRING_URL; TXLAB_SPRING_URL=$(cat "$state/url")
"$txlab" run "$root/scenarios/vendors/spring-direct.yaml" --json "$out/chain.json" | tee "$out/chain.txt"
python3 - "$out/chain.json" "$TXLAB_SPRING_URL" <<'PY'
import json, sys
run, iss = json.load(open(sys.argv[1])), sys.argv[2]
calls = run["calls"]
assert calls and all(c["ok"] for c in calls), "the chain did not pass"
seen = 0
for c in calls:
    for t in c["tokens"]:
        assert t["claims"].get("iss") == iss, f"{t['label']}: iss {t['claims'].get('iss')} is not {iss}"
        assert t.get("header", {}).get("alg") == "RS256", t.get("header")
        seen += 1
assert seen >= 2, f"expected AT1 and AT2 in the trace, saw {seen} tokens"
print(f"spring chain: {len(calls)} call(s) passed; {seen} Spring Authorization Server tokens decoded in the trace")
PY
