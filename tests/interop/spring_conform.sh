#!/usr/bin/env bash
# txlab conform against a real Spring Authorization Server (spring_as.sh, a ctest fixture) with
# its signing key (--issuer-key); grades pinned in spring-grades.json, every FAILED explained.
# UPDATE=1 prints the new table.
set -euo pipefail
txlab=$1 state=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
[ -s "$state/url" ] || { echo "FAIL: Spring Authorization Server is not running (the interop.spring.start fixture failed; see $state/spring-as.log)"; exit 1; }
url=$(cat "$state/url")
mkdir -p "$out"
set +e
"$txlab" conform --target-url "$url" --profile common \
  --exchanger-client requester-client:requester-secret --subject-client subject-client:subject-secret \
  --audience api://orders --unauthorized-client reader-client:reader-secret \
  --issuer-key "$state/signing-key.pem" --issuer "$url" \
  --json "$out/spring.json" --quiet >"$out/spring.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] || { echo "FAIL: expected a graded run (exit 0 or 1), got $rc"; cat "$out/spring.txt"; exit 1; }
python3 "$here/pinned_grades.py" "$out/spring.json" "$here/spring-grades.json" "${UPDATE:-}"
