#!/usr/bin/env bash
# txlab attack against the chain whose authorization server is a real Spring Authorization
# Server (its own instance, audience from the request, as in spring_chain.sh): the vendor subset
# of the catalogue (forgeries of SAS's tokens at txlab's gateways, replay across zones, what a
# leaked exchange secret gets at SAS, an ID token by exchange) and the isolation matrix. Then the
# same server without its per-client audience check (--txlab.audience-unchecked=true): a leaked
# exchanger secret then reaches any audience, and the attack must catch exactly that.
set -euo pipefail
txlab=$1 state=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd) root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
trap 'bash "$here/spring_as.sh" stop "$state" >/dev/null 2>&1 || true' EXIT
scenario="$root/scenarios/vendors/spring-direct.yaml"
export TXLAB_SPRING_URL

SPRING_AS_ARGS=--txlab.audience-from-request=true bash "$here/spring_as.sh" start "$state"
TXLAB_SPRING_URL=$(cat "$state/url")
"$txlab" attack "$scenario" --quiet --json "$out/attack.json" >"$out/attack.txt" 2>&1 \
  || { cat "$out/attack.txt"; echo "FAIL: attack against the Spring chain"; exit 1; }
python3 - "$out/attack.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
by_id = {a["id"]: a for a in d["attacks"]}
assert d["failed"] == 0 and d["isolation"]["mismatches"] == 0, d
# The control proves the forgeries are refused for what they are, not for a missing audience.
assert by_id["control/legitimate-token-accepted"]["passed"], by_id
assert len(by_id) >= 13 and "leak/other-audience" in by_id and "jwt/hs256-key-confusion" in by_id, by_id
print(f"spring attack: {len(by_id)} attacks as expected, {len(d['isolation']['cells'])} isolation cells, 0 mismatches")
PY

bash "$here/spring_as.sh" stop "$state" >/dev/null
SPRING_AS_ARGS="--txlab.audience-from-request=true --txlab.audience-unchecked=true" bash "$here/spring_as.sh" start "$state"
TXLAB_SPRING_URL=$(cat "$state/url")
set +e
"$txlab" attack "$scenario" --quiet --json "$out/unchecked.json" >"$out/unchecked.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat "$out/unchecked.txt"; echo "FAIL: without the audience check the attack should fail (exit $rc)"; exit 1; }
python3 - "$out/unchecked.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bad = [a["id"] for a in d["attacks"] if not a["passed"]]
assert bad == ["leak/other-audience"], bad
print("without the per-client audience check a leaked exchanger secret reaches any audience: caught")
PY
