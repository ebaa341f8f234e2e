#!/usr/bin/env bash
# `txlab conform --target-url` over mutual TLS: a served 'tls: mutual' AS, its CA and the
# exchanger's certificate written by `serve --tls DIR`, another subject's certificate from the
# same CA (another role's), and the exchanger's subject from a CA made here with openssl. The
# RFC 8705 cases run by URL and pass; without --mtls-client they are INFORMATIONAL.
set -euo pipefail
txlab=$1 scenario=$2 out=$3
dir="$out/remote-mtls"
rm -rf "$dir" && mkdir -p "$dir"
log=$(mktemp)
"$txlab" serve "$scenario" --tls "$dir/material" >"$log" 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 100); do grep -q "^Ctrl-C" "$log" && break; sleep 0.05; done
url=$(awk '$1 == "as-x" { print $3 }' "$log")
m="$dir/material"
# The exchanger's subject, from a CA the target does not trust.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj "/O=txlab/CN=stranger CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/O=txlab/CN=x-exchanger" \
  -keyout "$dir/untrusted.key" -out "$dir/untrusted.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >"$dir/ext"
openssl x509 -req -in "$dir/untrusted.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
  -CAcreateserial -days 1 -extfile "$dir/ext" -out "$dir/untrusted.pem" 2>/dev/null
"$txlab" conform --target-url "$url" --ca "$m/ca.pem" --exchanger-client x-exchanger: \
  --subject-client x-subject:subject-secret --audience api://x \
  --mtls-client "x-exchanger:$m/x-exchanger.pem:$m/x-exchanger.key" \
  --mtls-other-subject "$m/as-x.pem:$m/as-x.key" \
  --mtls-untrusted "$dir/untrusted.pem:$dir/untrusted.key" \
  --json "$dir/conform.json" --quiet >"$dir/conform.txt" 2>&1 || {
  echo "conform over mutual TLS failed"; cat "$dir/conform.txt"; exit 1; }
python3 - "$dir/conform.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["counts"]["FAILED"] == 0, r["counts"]
g = {c["id"]: c["grade"] for c in r["cases"]}
for i in ["rfc8705/2/registered-certificate-authenticates", "rfc8705/2/no-certificate-invalid-client",
          "rfc8705/2.1/another-subject-invalid-client", "rfc8705/2.1/untrusted-ca-invalid-client",
          "rfc8705/3.1/x5t-s256-is-the-certificate-hash", "rfc8705/3.1/jwt-carries-x5t-s256",
          "rfc8693/2.1/valid-request-succeeds"]:
    assert g[i] == "OK", (i, g[i])
PY
# The server's certificate does not verify without --ca: the run stops at discovery, exit 2.
set +e
"$txlab" conform --target-url "$url" --exchanger-client x-subject:subject-secret >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] || { echo "an https target of an unknown CA was graded without --ca"; exit 1; }
echo "cli conform remote mtls: ok"
