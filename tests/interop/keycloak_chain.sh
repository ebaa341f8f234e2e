#!/usr/bin/env bash
# The shipped vendor scenario scenarios/vendors/keycloak-direct.yaml against the Keycloak the
# fixture started: the chain must PASS, and the trace must show Keycloak's own tokens (its
# issuer, RS256) verified by txlab's gateways and PBA.
set -euo pipefail
txlab=$1 state=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd) root=$(cd "$(dirname "$0")/../.." && pwd)
[ -s "$state/url" ] || { echo "FAIL: Keycloak is not running (see $state/keycloak.log)"; exit 1; }
mkdir -p "$out"
export TXLAB_KEYCLOAK_URL; TXLAB_KEYCLOAK_URL=$(cat "$state/url")
"$txlab" run "$root/scenarios/vendors/keycloak-direct.yaml" --json "$out/chain.json" | tee "$out/chain.txt"
python3 "$here/check_chain.py" "$out/chain.json" "$TXLAB_KEYCLOAK_URL" "Keycloak"
