#!/usr/bin/env bash
# txlab conform against a real Keycloak (started by keycloak.sh as a ctest fixture), with the
# realm's own signing key (--issuer-key) so the key-dependent cases run too. Every case's grade
# is pinned in keycloak-grades.json with the Keycloak version; every FAILED there carries the RFC
# text that supports it. A changed grade fails the test (UPDATE=1 prints the new table).
set -euo pipefail
txlab=$1 state=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
[ -s "$state/url" ] || { echo "FAIL: Keycloak is not running (the interop.keycloak.start fixture failed; see $state/keycloak.log)"; exit 1; }
url=$(cat "$state/url")
mkdir -p "$out"
set +e
"$txlab" conform --target-url "$url" --profile keycloak \
  --exchanger-client requester-client:requester-secret --subject-client subject-client:subject-secret \
  --audience target-client --unauthorized-client no-exchange-client:no-exchange-secret \
  --dpop-bound-client dpop-bound-client:dpop-bound-secret \
  --semantics impersonation --issuer-key "$state/signing-key.pem" --issuer "$url" \
  --json "$out/keycloak.json" --quiet >"$out/keycloak.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || { echo "FAIL: expected exit 1 (FAILED cases), got $rc"; cat "$out/keycloak.txt"; exit 1; }
python3 "$here/pinned_grades.py" "$out/keycloak.json" "$here/keycloak-grades.json" "${UPDATE:-}"
