#!/usr/bin/env bash
# scenarios/vendors/spring-direct.yaml against its own Spring Authorization Server (started here
# with --txlab.audience-from-request=true, stopped on exit): the chain must PASS and the trace
# must show SAS's own tokens verified by txlab's gateways and PBA.
set -euo pipefail
txlab=$1 state=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd) root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
trap 'bash "$here/spring_as.sh" stop "$state" >/dev/null 2>&1 || true' EXIT
SPRING_AS_ARGS=--txlab.audience-from-request=true bash "$here/spring_as.sh" start "$state"
export TXLAB_SPRING_URL; TXLAB_SPRING_URL=$(cat "$state/url")
"$txlab" run "$root/scenarios/vendors/spring-direct.yaml" --json "$out/chain.json" | tee "$out/chain.txt"
python3 "$here/check_chain.py" "$out/chain.json" "$TXLAB_SPRING_URL" "Spring Authorization Server"
