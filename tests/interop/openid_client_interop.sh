#!/usr/bin/env bash
# Starts `txlab serve` on the conformance scenario and runs the openid-client interop script
# against its AS. The node modules come from scripts/install-deps.sh (npm ci here).
set -euo pipefail
txlab=$1 scenario=$2
here=$(cd "$(dirname "$0")" && pwd)
[ -d "$here/node_modules/openid-client" ] || { echo "openid-client is not installed: run scripts/install-deps.sh"; exit 1; }
log=$(mktemp)
"$txlab" serve "$scenario" >"$log" 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 100); do grep -q "as-x" "$log" && break; sleep 0.05; done
url=$(awk '$1 == "as-x" { print $3 }' "$log")
[ -n "$url" ] || { echo "serve did not print the URL of as-x"; cat "$log"; exit 1; }
node "$here/openid_client_interop.mjs" "$url"
