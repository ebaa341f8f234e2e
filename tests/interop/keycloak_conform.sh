#!/usr/bin/env bash
# txlab conform against a real Keycloak (started by keycloak.sh as a ctest fixture) with the
# shipped config conformance/configs/keycloak.yaml (the realm's own signing key, so the
# key-dependent cases run too), gated on the pinned baseline of that Keycloak version,
# baselines/keycloak-VERSION.json: every case's grade, every FAILED with the RFC text behind it.
# With `mtls`, the same realm over https with conformance/configs/keycloak-mtls.yaml: the
# exchanger authenticates with its certificate (RFC 8705 tls_client_auth) and gets
# certificate-bound tokens; pinned in baselines/keycloak-VERSION-mtls.json. Any drift fails
# (pinned_baseline.sh); UPDATE=1 re-pins.
#   keycloak_conform.sh TXLAB STATE_DIR OUT_DIR [mtls]
set -euo pipefail
txlab=$1 state=$2 out=$3 mode=${4:-}
here=$(cd "$(dirname "$0")" && pwd) root=$(cd "$(dirname "$0")/../.." && pwd)
[ -s "$state/url" ] || { echo "FAIL: Keycloak is not running (its interop.keycloak*.start fixture failed; see $state/keycloak.log)"; exit 1; }
version=$(cat "$state/version")
TXLAB_KEYCLOAK_URL=$(cat "$state/url") TXLAB_KEYCLOAK_HTTPS_URL=$(cat "$state/https-url") TXLAB_KEYCLOAK_STATE=$(cd "$state" && pwd)
# The realm's clients (txlab export --conformance-clients).
TXLAB_KEYCLOAK_EXCHANGER_SECRET=requester-secret TXLAB_KEYCLOAK_SUBJECT_SECRET=subject-secret
TXLAB_KEYCLOAK_UNAUTHORIZED_SECRET=no-exchange-secret TXLAB_KEYCLOAK_DPOP_SECRET=dpop-bound-secret
export TXLAB_KEYCLOAK_URL TXLAB_KEYCLOAK_HTTPS_URL TXLAB_KEYCLOAK_STATE TXLAB_KEYCLOAK_EXCHANGER_SECRET \
  TXLAB_KEYCLOAK_SUBJECT_SECRET TXLAB_KEYCLOAK_UNAUTHORIZED_SECRET TXLAB_KEYCLOAK_DPOP_SECRET
mkdir -p "$out"
. "$here/pinned_baseline.sh"
config=keycloak suffix=""
[ "$mode" = mtls ] && config=keycloak-mtls suffix=-mtls
pinned_conform "$out/keycloak$suffix" "$here/baselines/keycloak-$version$suffix.json" \
  "$txlab" conform --config "$root/conformance/configs/$config.yaml"
