#!/usr/bin/env bash
# The vendor matrix from the conformance runs of this build: txlab's own AS (run here), Keycloak,
# Spring Authorization Server and @jmondi/oauth2-server (their interop tests wrote the JSON).
# usage: matrix.sh TXLAB BUILD_TESTS_DIR OUT_DIR
set -euo pipefail
txlab=$1 tests=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd) root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
set +e
"$txlab" conform --scenario "$root/scenarios/broker.yaml" --target as-c2p --json "$out/txlab.json" --quiet >"$out/txlab.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 0 ] || { echo "FAIL: txlab's own AS did not pass its conformance run (exit $rc)"; tail -20 "$out/txlab.txt"; exit 1; }
kc_version=$(sed -n 's/^KEYCLOAK_VERSION=//p' "$here/keycloak.sh")
kc_previous=$(sed -n 's/^KEYCLOAK_PREVIOUS=//p' "$here/keycloak.sh")
sb_version=$(sed -n '/<artifactId>spring-boot-starter-parent</{n;s/.*<version>\(.*\)<\/version>.*/\1/p}' "$here/spring-as/pom.xml")
jm_version=$(node -p "require('$here/node_modules/@jmondi/oauth2-server/package.json').version" 2>/dev/null || echo "?")
python3 "$here/matrix.py" "$out" \
  "txlab AS (as-c2p, broker)=$out/txlab.json" \
  "Keycloak $kc_version=$tests/keycloak-conform/keycloak.json,$here/baselines/keycloak-$kc_version.json" \
  "Keycloak $kc_previous=$tests/keycloak-previous-conform/keycloak.json,$here/baselines/keycloak-$kc_previous.json" \
  "Keycloak $kc_version (mutual TLS)=$tests/keycloak-mtls-conform/keycloak-mtls.json,$here/baselines/keycloak-$kc_version-mtls.json" \
  "Spring AS (Boot $sb_version)=$tests/spring-conform/spring.json,$here/baselines/spring.json" \
  "@jmondi/oauth2-server $jm_version (integrator's callback, jmondi_peer.mjs)=$tests/jmondi/jmondi.json,$here/baselines/jmondi.json"
