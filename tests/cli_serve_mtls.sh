#!/usr/bin/env bash
# A 'tls: mutual' scenario served whole: every role answers https only, --tls DIR writes the
# run's CA and the roles' certificates, and an outside caller with them (curl) drives the chain
# with certificate-bound tokens. What cannot work is refused with its reason: a standalone role
# (--role) and export to Kubernetes/Compose (the CA is made per run in one process).
set -euo pipefail
txlab=$1 scenario=$2 out=$3
dir="$out/mtls-material"
rm -rf "$dir"
log=$(mktemp)
"$txlab" serve "$scenario" --tls "$dir" >"$log" 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 100); do grep -q "^Ctrl-C" "$log" && break; sleep 0.05; done
url_of() { awk -v r="$1" '$1 == r { print $3 }' "$log"; }
cfa=$(url_of cfa) gw=$(url_of gw-c2p)
case "$cfa" in https://*) ;; *) echo "cfa is not served over https: $cfa"; cat "$log"; exit 1 ;; esac
[ "$(stat -c %a "$dir/cfa.key")" = 600 ] || { echo "a private key is not 0600"; exit 1; }
# Plain HTTP to a TLS-only role gets no HTTP answer.
if curl -s --max-time 3 "http://${cfa#https://}/healthz" >/dev/null; then
  echo "plain HTTP was answered"; exit 1
fi
# The chain, driven from outside with the CA and CFA's certificate.
body=$(curl -sf --cacert "$dir/ca.pem" --cert "$dir/cfa.pem" --key "$dir/cfa.key" \
  -X POST "$cfa/invoke" -d '{"to":"gw-c2p","path":"/orders/42"}')
echo "$body" | grep -q '"x5t#S256"' || { echo "no certificate-bound token reached PBA: $body"; exit 1; }
# The server's certificate does not verify without the run's CA.
if curl -sf --max-time 3 "$gw/healthz" >/dev/null 2>&1; then
  echo "the role's certificate verified without the run's CA"; exit 1
fi
# An outside caller holding a certificate-bound token of CFA, over a connection with another
# role's certificate, is refused (RFC 8705 §3).
at1=$(curl -sf --cacert "$dir/ca.pem" --cert "$dir/cfa.pem" --key "$dir/cfa.key" \
  -X POST "$(url_of as-c)/token" -d grant_type=client_credentials -d client_id=svc-cfa |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$dir/ca.pem" --cert "$dir/pba.pem" \
  --key "$dir/pba.key" -H "Authorization: Bearer $at1" "$gw/orders/42")
[ "$code" = 401 ] || { echo "stolen certificate-bound token over another connection: $code"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$dir/ca.pem" --cert "$dir/cfa.pem" \
  --key "$dir/cfa.key" -H "Authorization: Bearer $at1" "$gw/orders/42")
[ "$code" = 200 ] || { echo "the holder's own connection: $code"; exit 1; }
# Refused with the reason, exit 2.
set +e
msg=$("$txlab" serve "$scenario" --role as-c 2>&1); rc=$?
[ "$rc" = 2 ] && echo "$msg" | grep -q "tls: mutual" || { echo "serve --role: $rc $msg"; exit 1; }
msg=$("$txlab" export "$scenario" --k8s "$out/mtls-k8s" 2>&1); rc=$?
[ "$rc" = 2 ] && echo "$msg" | grep -q "tls: mutual" || { echo "export: $rc $msg"; exit 1; }
set -e
echo "cli serve mtls: ok"
