#!/usr/bin/env bash
# scenarios/vendors/spring-broker.yaml against its own Spring Authorization Server as the on-prem
# AS (started here, stopped on exit), with the app's external-token exchange on for AS-C2P
# (--txlab.external-issuer, AS-C2P's public key from a fresh EC key) and audiences from the
# request: the chain must PASS, AS-C2P's token (AT2) must reach SAS on the back channel and AT3
# must be SAS's own, for both on-prem audiences. SAS's own tokens must still be exchanged by SAS's
# own provider (spring-direct.yaml against the same server), hand-made external tokens with each
# defect must be refused with 400 (spring_broker_probe.py), and the run with AS-C2P signing with a
# key SAS does not hold must be refused at SAS (400) and the call fail.
set -euo pipefail
txlab=$1 state=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd) root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out" "$state"
trap 'bash "$here/spring_as.sh" stop "$state" >/dev/null 2>&1 || true' EXIT
scenario="$root/scenarios/vendors/spring-broker.yaml"
issuer=https://auth.c2p.cloud

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$state/c2p-signing-key.pem" 2>/dev/null
openssl pkey -in "$state/c2p-signing-key.pem" -pubout -out "$state/c2p-public-key.pem"
SPRING_AS_ARGS="--txlab.audience-from-request=true --txlab.external-issuer=$issuer --txlab.external-key=$state/c2p-public-key.pem" \
  bash "$here/spring_as.sh" start "$state"
export TXLAB_SPRING_BROKER_URL TXLAB_SPRING_BROKER_KEY="$state/c2p-signing-key.pem"
TXLAB_SPRING_BROKER_URL=$(cat "$state/url")

"$txlab" run "$scenario" --json "$out/chain.json" | tee "$out/chain.txt"
python3 - "$out/chain.json" "$TXLAB_SPRING_BROKER_URL" <<'PY'
import json, sys
run, sas = json.load(open(sys.argv[1])), sys.argv[2]
assert run["ok"] and all(c["ok"] for c in run["calls"]), "the chain did not pass"
call = run["calls"][0]
hops = [(h["from"], h["to"], h["status"]) for h in call["hops"]]
assert ("as-c2p", "spring", 200) in hops, hops          # the back channel
tokens = {t["label"]: t for t in call["tokens"]}
at2, at3 = tokens["AT2"]["claims"], tokens["AT3"]["claims"]
assert at2["iss"] == "https://auth.c2p.cloud" and at2["aud"] == sas, at2
assert tokens["AT2"]["header"]["alg"] == "ES256", tokens["AT2"]["header"]
assert at3["iss"] == sas and at3["sub"] == "svc-cfa" and {"gateway-c2pe", "pba"} <= set(at3["aud"]), at3
assert tokens["AT3"]["header"]["alg"] == "RS256", tokens["AT3"]["header"]
print(f"spring broker: AS-C2P's token exchanged at Spring Authorization Server ({sas}); AT3 for {sorted(at3['aud'])}")
PY

# The same server still exchanges its own tokens through its own provider.
TXLAB_SPRING_URL=$TXLAB_SPRING_BROKER_URL "$txlab" run "$root/scenarios/vendors/spring-direct.yaml" \
  --json "$out/direct.json" >"$out/direct.txt" 2>&1 || { cat "$out/direct.txt"; echo "FAIL: spring-direct against the broker's SAS"; exit 1; }
python3 "$here/check_chain.py" "$out/direct.json" "$TXLAB_SPRING_BROKER_URL" "Spring Authorization Server (external exchange on)"

# Hand-made external tokens: each defect refused with 400.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/stranger-key.pem" 2>/dev/null
python3 "$here/spring_broker_probe.py" "$TXLAB_SPRING_BROKER_URL" "$issuer" "$state/c2p-signing-key.pem" "$out/stranger-key.pem"

# A key SAS does not hold: the external token must be refused.
set +e
TXLAB_SPRING_BROKER_KEY="$out/stranger-key.pem" "$txlab" run "$scenario" --json "$out/stranger.json" >"$out/stranger.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat "$out/stranger.txt"; echo "FAIL: with a key SAS does not hold the run should fail (exit $rc)"; exit 1; }
python3 - "$out/stranger.json" <<'PY'
import json, sys
call = json.load(open(sys.argv[1]))["calls"][0]
back = [h for h in call["hops"] if h["from"] == "as-c2p" and h["to"] == "spring"]
assert back and back[0]["status"] == 400, back
assert not call["ok"], call
print("spring broker: a token signed with another key is refused at Spring Authorization Server (400)")
PY
