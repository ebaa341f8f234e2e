#!/usr/bin/env bash
# txlab conform against a third-party RFC 8693 implementation: @jmondi/oauth2-server (npm,
# pinned) with the integrator's exchange callback as its documentation shows it (jmondi_peer.mjs), reached by URL, with its signing
# key (--issuer-key) so the key-dependent cases run too. Every case's grade is pinned in the
# baseline baselines/jmondi.json, and every FAILED there carries the RFC text that supports it;
# any drift fails the test (pinned_baseline.sh; UPDATE=1 re-pins).
set -euo pipefail
txlab=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
[ -d "$here/node_modules/@jmondi/oauth2-server" ] || { echo "FAIL: @jmondi/oauth2-server is not installed (run scripts/install-deps.sh)"; exit 1; }
mkdir -p "$out"
url_file="$out/jmondi.url" key_file="$out/jmondi.key.json"
rm -f "$url_file" "$key_file"
node "$here/jmondi_peer.mjs" "$url_file" "$key_file" >"$out/jmondi.log" 2>&1 &
peer=$!
trap 'kill $peer 2>/dev/null; wait $peer 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$url_file" ] && break; sleep 0.05; done
[ -s "$url_file" ] || { echo "FAIL: the jmondi peer did not start:"; cat "$out/jmondi.log"; exit 1; }
url=$(cat "$url_file")
. "$here/pinned_baseline.sh"
pinned_conform "$out/jmondi" "$here/baselines/jmondi.json" \
  "$txlab" conform --target-url "$url" --exchanger-client jm-exchanger:exchanger-secret \
  --subject-client jm-subject:subject-secret --audience api://jm --unauthorized-client jm-reader:reader-secret \
  --issuer-key "$key_file" --issuer "$url"
