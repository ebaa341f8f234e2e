#!/usr/bin/env bash
# txlab conform against a third-party RFC 8693 implementation: @jmondi/oauth2-server (npm,
# pinned) with the integrator's exchange callback as its documentation shows it (jmondi_peer.mjs), reached by URL, with its signing
# key (--issuer-key) so the key-dependent cases run too. Every case's grade is pinned in
# jmondi-grades.json, and every FAILED there carries the RFC text that supports it; a changed
# grade fails the test (run with UPDATE=1 to print the new table).
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
set +e
"$txlab" conform --target-url "$url" --exchanger-client jm-exchanger:exchanger-secret \
  --subject-client jm-subject:subject-secret --audience api://jm --unauthorized-client jm-reader:reader-secret \
  --issuer-key "$key_file" --issuer "$url" --json "$out/jmondi.json" --quiet >"$out/jmondi.txt" 2>&1
rc=$?
set -e
# FAILED cases exist, so the run exits 1 (never 0, never a crash or a verdict code).
[ "$rc" -eq 1 ] || { echo "FAIL: expected exit 1, got $rc"; cat "$out/jmondi.txt"; exit 1; }
python3 "$here/pinned_grades.py" "$out/jmondi.json" "$here/jmondi-grades.json" "${UPDATE:-}"
