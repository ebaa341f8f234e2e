#!/usr/bin/env bash
# Roles out of the single process: AS-C and AS-C2PE of the direct scenario each in their own
# `txlab serve --role` on fixed loopback ports; AS-C2PE trusts AS-C across processes (its JWKS
# fetched from the other process) and exchanges AS-C's token. A role missing a peer, a
# non-loopback --listen without --expose and a peer for an unknown role are usage errors.
set -euo pipefail
txlab=$1 src=$2 out=$3
mkdir -p "$out"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
p1=$(free_port) p2=$(free_port)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null || true' EXIT
"$txlab" serve "$src/scenarios/direct.yaml" --role as-c --listen "127.0.0.1:$p1" >"$out/as-c.log" 2>&1 &
pids+=($!)
"$txlab" serve "$src/scenarios/direct.yaml" --role as-c2pe --listen "127.0.0.1:$p2" \
  --peer "as-c=http://127.0.0.1:$p1" >"$out/as-c2pe.log" 2>&1 &
pids+=($!)
for port in "$p1" "$p2"; do
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/jwks" && break; sleep 0.05; done
done
at1=$(curl -sf -u svc-cfa:cfa-secret -d grant_type=client_credentials "http://127.0.0.1:$p1/token" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
answer=$(curl -s -w '\n%{http_code}' -u gateway-c2p:gw-c2p-secret \
  -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange -d "subject_token=$at1" \
  -d subject_token_type=urn:ietf:params:oauth:token-type:access_token -d audience=api://pba \
  "http://127.0.0.1:$p2/token")
code=$(echo "$answer" | tail -1)
[ "$code" = 200 ] || { echo "FAIL: cross-process exchange answered $code: $answer"; cat "$out/as-c2pe.log"; exit 1; }
grep -q "as-c.*(not served here)" "$out/as-c2pe.log" || { echo "FAIL: the peer is not listed"; cat "$out/as-c2pe.log"; exit 1; }
set +e
"$txlab" serve "$src/scenarios/direct.yaml" --role gw-c2p >"$out/missing.txt" 2>&1; m=$?
"$txlab" serve "$src/scenarios/direct.yaml" --role as-c --listen 0.0.0.0:0 >"$out/expose.txt" 2>&1; e=$?
"$txlab" serve "$src/scenarios/direct.yaml" --role as-c --peer nobody=http://x >"$out/unknown.txt" 2>&1; u=$?
set -e
[ "$m" -eq 2 ] && grep -q "needs the URL of: as-c, as-c2pe, gw-c2pe" "$out/missing.txt" || { echo "FAIL: missing peers ($m)"; cat "$out/missing.txt"; exit 1; }
[ "$e" -eq 2 ] && grep -q -- "--expose" "$out/expose.txt" || { echo "FAIL: non-loopback without --expose ($e)"; exit 1; }
[ "$u" -eq 2 ] && grep -q "unknown role 'nobody'" "$out/unknown.txt" || { echo "FAIL: unknown peer ($u)"; exit 1; }
# issuer: served + --public-url: discovery fetched at the public URL names exactly that URL as
# issuer (RFC 8414 §3.3), and tokens carry it as iss.
sed 's|issuer: https://auth.c.cloud|issuer: served|' "$src/scenarios/direct.yaml" >"$out/served.yaml"
p3=$(free_port)
public="http://localhost:$p3"
"$txlab" serve "$out/served.yaml" --role as-c --listen "127.0.0.1:$p3" --public-url "$public/" >"$out/served.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -sf -o /dev/null "$public/jwks" && break; sleep 0.05; done
meta=$(curl -sf "$public/.well-known/oauth-authorization-server")
python3 - "$public" "$meta" <<'PY' || { cat "$out/served.log"; exit 1; }
import json, sys
public, meta = sys.argv[1], json.loads(sys.argv[2])
assert meta["issuer"] == public, f"FAIL: issuer {meta['issuer']} is not the URL discovery was fetched from ({public})"
assert meta["token_endpoint"] == public + "/token", f"FAIL: token_endpoint {meta['token_endpoint']}"
assert meta["jwks_uri"] == public + "/jwks", f"FAIL: jwks_uri {meta['jwks_uri']}"
PY
iss=$(curl -sf -u svc-cfa:cfa-secret -d grant_type=client_credentials "$public/token" | python3 -c '
import base64, json, sys
p = json.load(sys.stdin)["access_token"].split(".")[1]
print(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))["iss"])')
[ "$iss" = "$public" ] || { echo "FAIL: token iss $iss, want $public"; exit 1; }
# The whole scenario on fixed ports: --listen 127.0.0.1:P puts its roles on P, P+1, ...
# (P where six consecutive ports are free; tried again if another test takes one meanwhile).
free_run() { python3 -c '
import random, socket
for _ in range(200):
    p = random.randint(20000, 60000); ok = True
    for q in range(p, p + 6):
        s = socket.socket()
        try: s.bind(("127.0.0.1", q))
        except OSError: ok = False
        finally: s.close()
        if not ok: break
    if ok: print(p); break'; }
for attempt in 1 2 3; do
  p4=$(free_run)
  rm -f "$out/fixed.json"
  "$txlab" serve "$src/scenarios/direct.yaml" --listen "127.0.0.1:$p4" --json "$out/fixed.json" >"$out/fixed.log" 2>&1 &
  fixed_pid=$!
  for _ in $(seq 1 100); do { [ -s "$out/fixed.json" ] || ! kill -0 $fixed_pid 2>/dev/null; } && break; sleep 0.05; done
  [ -s "$out/fixed.json" ] && break
  grep -q "cannot bind" "$out/fixed.log" || break
done
pids+=($fixed_pid)
python3 - "$out/fixed.json" "$p4" <<'PY' || { cat "$out/fixed.log"; exit 1; }
import json, sys
roles, first = json.load(open(sys.argv[1]))["roles"], int(sys.argv[2])
ports = [int(r["url"].rsplit(":", 1)[1]) for r in roles]
assert ports == list(range(first, first + len(roles))), f"FAIL: fixed ports {ports} from {first}"
PY
echo "serve --role: cross-process exchange 200; usage errors as expected; issuer: served = --public-url"
