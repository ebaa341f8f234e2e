#!/usr/bin/env bash
# The shipped vendor scenario scenarios/vendors/keycloak-direct.yaml against the Keycloak the
# fixture started: the chain must PASS, and the trace must show Keycloak's own tokens (its
# issuer, RS256) verified by txlab's gateways and PBA.
set -euo pipefail
txlab=$1 state=$2 out=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
[ -s "$state/url" ] || { echo "FAIL: Keycloak is not running (see $state/keycloak.log)"; exit 1; }
mkdir -p "$out"
export TXLAB_KEYCLOAK_URL; TXLAB_KEYCLOAK_URL=$(cat "$state/url")
"$txlab" run "$root/scenarios/vendors/keycloak-direct.yaml" --json "$out/chain.json" | tee "$out/chain.txt"
python3 - "$out/chain.json" "$TXLAB_KEYCLOAK_URL" <<'PY'
import base64, json, sys
run, iss = json.load(open(sys.argv[1])), sys.argv[2]
calls = run["calls"]
assert calls and all(c["ok"] for c in calls), "the chain did not pass"
seen = 0
for c in calls:
    for t in c["tokens"]:
        claims = t["claims"]
        assert claims.get("iss") == iss, f"{t['label']}: iss {claims.get('iss')} is not Keycloak's {iss}"
        assert t.get("header", {}).get("alg") == "RS256", t.get("header")
        seen += 1
assert seen >= 2, f"expected AT1 and AT2 in the trace, saw {seen} tokens"
print(f"keycloak chain: {len(calls)} call(s) passed; {seen} Keycloak tokens decoded in the trace")
PY
