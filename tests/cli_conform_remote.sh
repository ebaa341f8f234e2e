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

# With the issuer's key (--issuer-key), the key-dependent cases run against the URL too: only
# the issuer/key mix-up (the key is the target's own issuer's, so no second issuer) and the RFC
# 8705 cases (no mutual-TLS client is configured for a remote target) stay INFORMATIONAL.
"$txlab" conform --target-url "$url" --exchanger-client x-svc-exchanger-to-api:exchanger-secret \
  --subject-client x-svc-subject-to-exchanger:subject-secret --audience api://x \
  --issuer-key "$(dirname "$scenario")/as-x-signing-key.pem" --issuer https://as-x.example \
  --dpop-bound-client x-svc-dpop-to-api:dpop-secret \
  --json "$out/remote-keyed.json" >/dev/null
python3 - "$out/remote-keyed.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["counts"]["FAILED"] == 0, r["counts"]
info = [c["id"] for c in r["cases"] if c["grade"] == "INFORMATIONAL"]
# Also: an RSA-signed target has no DER form of an ECDSA signature to try, and the served AS's
# 30 s leeway is longer than the time case waits for a remote target.
assert all("issuer-key-mixup" in i or i == "rfc6749/5.2/unauthorized-client"
           or i.startswith("rfc8705/") or i.endswith("-der-signature")
           or i.endswith("-expired-after-acceptance")
           or i == "rfc8725/3.8/withdrawn-key-refused"  # rotation needs --serve-issuer
           for i in info), info
assert any(c["id"] == "rfc7519/4.1.4/subject-access-token-expired" and c["grade"] == "OK" for c in r["cases"])
assert any(c["id"] == "rfc9449/5.2/bound-client-without-proof-rejected" and c["grade"] == "OK" for c in r["cases"])
PY

# --only that matches nothing is a usage error; --list honours --only.
set +e
"$txlab" conform --target-url "$url" --exchanger-client a:b --only rfc9999/ >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "--only matching nothing: expected exit 2, got $rc"; exit 1; }
list=$("$txlab" conform --list --only rfc7518/3.6/)
echo "$list" | grep -q "rfc7518/3.6/subject-access-token-alg-none"
! echo "$list" | grep -q "rfc8693/2.1/valid-request-succeeds"
# A key file that is not a key is a setup error with the reason, not a crash.
set +e
msg=$("$txlab" conform --target-url "$url" --exchanger-client a:b --issuer-key "$scenario" --issuer x 2>&1)
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "bad --issuer-key: expected exit 2, got $rc: $msg"; exit 1; }
echo "$msg" | grep -q "issuer-key"
echo "cli conform remote: ok"
