#!/usr/bin/env bash
# txlab conform against a real Spring Authorization Server (spring_as.sh, a ctest fixture) with
# the shipped config conformance/configs/spring.yaml (its signing key as --issuer-key), gated on
# the pinned baseline baselines/spring.json, every FAILED explained. Any drift fails
# (pinned_baseline.sh); UPDATE=1 re-pins.
set -euo pipefail
txlab=$1 state=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd) root=$(cd "$(dirname "$0")/../.." && pwd)
[ -s "$state/url" ] || { echo "FAIL: Spring Authorization Server is not running (the interop.spring.start fixture failed; see $state/spring-as.log)"; exit 1; }
TXLAB_SPRING_URL=$(cat "$state/url") TXLAB_SPRING_STATE=$(cd "$state" && pwd)
# The test app's clients (spring-as/.../TxlabSpringAs.java).
TXLAB_SPRING_EXCHANGER_SECRET=requester-secret TXLAB_SPRING_SUBJECT_SECRET=subject-secret
TXLAB_SPRING_UNAUTHORIZED_SECRET=reader-secret
export TXLAB_SPRING_URL TXLAB_SPRING_STATE TXLAB_SPRING_EXCHANGER_SECRET TXLAB_SPRING_SUBJECT_SECRET \
  TXLAB_SPRING_UNAUTHORIZED_SECRET
mkdir -p "$out"
. "$here/pinned_baseline.sh"
pinned_conform "$out/spring" "$here/baselines/spring.json" \
  "$txlab" conform --config "$root/conformance/configs/spring.yaml"
