#!/usr/bin/env bash
# `txlab conform --target-url` against a server started separately with `txlab serve`:
# discovery, the whole suite, JUnit and JSON reports written, exit code 0.
set -euo pipefail
txlab=$1 scenario=$2 out=$3
log=$(mktemp)
"$txlab" serve "$scenario" >"$log" 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 100); do grep -q "as-x" "$log" && break; sleep 0.05; done
url=$(awk '$1 == "as-x" { print $3 }' "$log")
[ -n "$url" ] || { echo "serve did not print the URL of as-x"; cat "$log"; exit 1; }
"$txlab" conform --target-url "$url" --exchanger-client x-svc-exchanger-to-api:exchanger-secret \
  --subject-client x-svc-subject-to-exchanger:subject-secret --audience api://x \
  --junit "$out/remote.junit.xml" --json "$out/remote.json"
grep -q '<testsuites' "$out/remote.junit.xml"
grep -q '"FAILED": 0' "$out/remote.json"
