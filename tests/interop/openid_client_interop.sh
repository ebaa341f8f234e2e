#!/usr/bin/env bash
# Starts `txlab serve` on the conformance scenario and runs the openid-client interop script
# against its AS. The node modules come from scripts/install-deps.sh (npm ci here).
set -euo pipefail
txlab=$1 scenario=$2
here=$(cd "$(dirname "$0")" && pwd)
[ -d "$here/node_modules/openid-client" ] || { echo "openid-client is not installed: run scripts/install-deps.sh"; exit 1; }
source "$here/../serve_lib.sh"
start_serve "$txlab" "$scenario" as-x
node "$here/openid_client_interop.mjs" "$url"
