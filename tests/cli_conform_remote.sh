#!/usr/bin/env bash
# `txlab conform --target-url` against a server started separately with `txlab serve`:
# discovery, the whole suite, JUnit and JSON reports written, exit code 0.
set -euo pipefail
txlab=$1 scenario=$2 out=$3
source "$(dirname "$0")/serve_lib.sh"
start_serve "$txlab" "$scenario" as-x
"$txlab" conform --target-url "$url" --exchanger-client x-svc-exchanger-to-api:exchanger-secret \
  --subject-client x-svc-subject-to-exchanger:subject-secret --audience api://x \
  --junit "$out/remote.junit.xml" --json "$out/remote.json"
grep -q '<testsuites' "$out/remote.junit.xml"
grep -q '"FAILED": 0' "$out/remote.json"
