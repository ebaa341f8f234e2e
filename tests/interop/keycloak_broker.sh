#!/usr/bin/env bash
# scenarios/vendors/keycloak-broker.yaml against a real Keycloak as the on-prem AS (keycloak.sh
# start STATE TXLAB newest broker, a ctest fixture): the chain must PASS, AS-C2P's token (AT2)
# must reach Keycloak on the back channel and AT3 must be Keycloak's own, for both on-prem
# audiences. Then the same run with AS-C2P signing with a key Keycloak does not hold: Keycloak must
# refuse the exchange (it validates the external token's signature) and the call must fail.
set -euo pipefail
txlab=$1 state=$2 out=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
[ -s "$state/url" ] || { echo "FAIL: Keycloak (broker realm) is not running (see $state/keycloak.log)"; exit 1; }
export TXLAB_KEYCLOAK_BROKER_URL; TXLAB_KEYCLOAK_BROKER_URL=$(cat "$state/url")
export TXLAB_KEYCLOAK_BROKER_KEY="$state/c2p-signing-key.pem"
mkdir -p "$out"
scenario="$root/scenarios/vendors/keycloak-broker.yaml"
"$txlab" run "$scenario" --json "$out/chain.json" | tee "$out/chain.txt"
python3 - "$out/chain.json" "$TXLAB_KEYCLOAK_BROKER_URL" <<'PY'
import json, sys
run, kc = json.load(open(sys.argv[1])), sys.argv[2]
assert run["ok"] and all(c["ok"] for c in run["calls"]), "the chain did not pass"
call = run["calls"][0]
hops = [(h["from"], h["to"], h["status"]) for h in call["hops"]]
assert ("as-c2p", "keycloak", 200) in hops, hops          # the back channel
tokens = {t["label"]: t for t in call["tokens"]}
at2, at3 = tokens["AT2"]["claims"], tokens["AT3"]["claims"]
assert at2["iss"] == "https://auth.c2p.cloud" and at2["aud"] == kc, at2
assert at3["iss"] == kc and {"gateway-c2pe", "pba"} <= set(at3["aud"]), at3
assert tokens["AT3"]["header"]["alg"] == "RS256", tokens["AT3"]["header"]
print(f"keycloak broker: AS-C2P's token exchanged at Keycloak ({kc}); AT3 for {sorted(at3['aud'])}")
PY
# A key Keycloak's identity provider does not hold: the external token must be refused.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/stranger-key.pem" 2>/dev/null
set +e
TXLAB_KEYCLOAK_BROKER_KEY="$out/stranger-key.pem" "$txlab" run "$scenario" --json "$out/stranger.json" >"$out/stranger.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat "$out/stranger.txt"; echo "FAIL: with a key Keycloak does not hold the run should fail (exit $rc)"; exit 1; }
python3 - "$out/stranger.json" <<'PY'
import json, sys
call = json.load(open(sys.argv[1]))["calls"][0]
back = [h for h in call["hops"] if h["from"] == "as-c2p" and h["to"] == "keycloak"]
assert back and back[0]["status"] == 400, back
print("keycloak broker: a token signed with another key is refused at Keycloak (400)")
PY
