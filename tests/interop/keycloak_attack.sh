#!/usr/bin/env bash
# txlab attack against a topology whose authorization server is a real Keycloak (the fixture's):
# the vendor subset of the catalogue (forgeries of Keycloak's tokens at txlab's gateways, replay
# across zones, what a leaked exchange secret gets at Keycloak, Keycloak's own ID tokens used as
# access tokens) and the isolation matrix. Then the same scenario without its
# `access_token_claims: {typ: Bearer}` declaration: Keycloak types ID and access tokens both JWT,
# so that declaration is what keeps an ID token out — the attack must catch its absence.
set -euo pipefail
txlab=$1 state=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
[ -s "$state/url" ] || { echo "FAIL: Keycloak is not running (the interop.keycloak.start fixture failed; see $state/keycloak.log)"; exit 1; }
export TXLAB_KEYCLOAK_URL=$(cat "$state/url")
mkdir -p "$out"
scenario="$here/../../scenarios/vendors/keycloak-direct.yaml"
"$txlab" attack "$scenario" --quiet --json "$out/attack.json" >"$out/attack.txt" 2>&1 \
  || { cat "$out/attack.txt"; echo "FAIL: attack against the Keycloak chain"; exit 1; }
python3 - "$out/attack.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ids = {a["id"] for a in d["attacks"]}
assert d["failed"] == 0 and d["isolation"]["mismatches"] == 0, d
assert len(ids) >= 13 and "type/vendor-id-token-as-access-token" in ids and "jwt/hs256-key-confusion" in ids, ids
print(f"keycloak attack: {len(ids)} attacks as expected, {len(d['isolation']['cells'])} isolation cells, 0 mismatches")
PY
sed '/access_token_claims:/,/typ: Bearer/d' "$scenario" >"$out/no-claims.yaml"
set +e
"$txlab" attack "$out/no-claims.yaml" --quiet --json "$out/no-claims.json" >"$out/no-claims.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat "$out/no-claims.txt"; echo "FAIL: without access_token_claims the attack should fail (exit $rc)"; exit 1; }
python3 - "$out/no-claims.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bad = [a["id"] for a in d["attacks"] if not a["passed"]]
assert bad == ["type/vendor-id-token-as-access-token"], bad
print("without the declaration Keycloak's ID token passes the gateway: caught")
PY
