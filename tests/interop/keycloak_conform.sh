#!/usr/bin/env bash
# txlab conform against a real Keycloak (started by keycloak.sh as a ctest fixture) with the
# shipped config conformance/configs/keycloak.yaml (the realm's own signing key, so the
# key-dependent cases run too), gated on the pinned baseline baselines/keycloak.json: every
# case's grade for this Keycloak version, every FAILED with the RFC text behind it. Any drift
# fails (pinned_baseline.sh); UPDATE=1 re-pins.
set -euo pipefail
txlab=$1 state=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd) root=$(cd "$(dirname "$0")/../.." && pwd)
[ -s "$state/url" ] || { echo "FAIL: Keycloak is not running (the interop.keycloak.start fixture failed; see $state/keycloak.log)"; exit 1; }
TXLAB_KEYCLOAK_URL=$(cat "$state/url") TXLAB_KEYCLOAK_STATE=$(cd "$state" && pwd)
# The realm's clients (txlab export --conformance-clients).
TXLAB_KEYCLOAK_EXCHANGER_SECRET=requester-secret TXLAB_KEYCLOAK_SUBJECT_SECRET=subject-secret
TXLAB_KEYCLOAK_UNAUTHORIZED_SECRET=no-exchange-secret TXLAB_KEYCLOAK_DPOP_SECRET=dpop-bound-secret
export TXLAB_KEYCLOAK_URL TXLAB_KEYCLOAK_STATE TXLAB_KEYCLOAK_EXCHANGER_SECRET TXLAB_KEYCLOAK_SUBJECT_SECRET \
  TXLAB_KEYCLOAK_UNAUTHORIZED_SECRET TXLAB_KEYCLOAK_DPOP_SECRET
mkdir -p "$out"
. "$here/pinned_baseline.sh"
pinned_conform "$out/keycloak" "$here/baselines/keycloak.json" \
  "$txlab" conform --config "$root/conformance/configs/keycloak.yaml"
