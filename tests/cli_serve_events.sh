#!/usr/bin/env bash
# txlab serve while it runs: --log prints one line per answered request; events from stdin
# (--events) and from the admin endpoint (--admin, bearer token in a 0600 file) change the live
# topology: a key rotation shows in the JWKS, a gateway taken down fails the chain with the
# gateway's error and brought up again restores it, a secret rotation locks the client out. The
# endpoint refuses a missing or wrong token (401), a malformed or unknown event (400 naming the
# problem), and listens on loopback only.
set -euo pipefail
txlab=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
admin_port=$(free_port)
mkfifo "$out/stdin"
"$txlab" serve "$src/scenarios/broker.yaml" --log --events --admin "$admin_port" \
  --admin-token "$out/token" --json "$out/roles.json" <"$out/stdin" >"$out/serve.log" 2>&1 &
pid=$!
exec 3>"$out/stdin"   # keeps stdin open; lines written here are events
trap 'exec 3>&-; kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$out/roles.json" ] && grep -q "Ctrl-C" "$out/serve.log" && break; sleep 0.05; done
url() { python3 -c 'import json,sys; print([r["url"] for r in json.load(open(sys.argv[1]))["roles"] if r["id"]==sys.argv[2]][0])' "$out/roles.json" "$1"; }
fail() { echo "FAIL: $*"; tail -30 "$out/serve.log"; exit 1; }
cfa=$(url cfa) as_c=$(url as-c)
admin="http://127.0.0.1:$admin_port/events"
token=$(cat "$out/token")
[ "$(stat -c %a "$out/token")" = 600 ] || fail "the token file is not 0600"
invoke() { curl -s -X POST "$cfa/invoke" -d '{"to":"gw-c2p","path":"/orders/42"}' |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d.get("body",{}).get("error","") if isinstance(d.get("body"),dict) else "")'; }
post() { curl -s -w '\n%{http_code}' -H "Authorization: Bearer $1" --data-binary "$2" "$admin"; }
keys() { curl -s "$as_c/jwks" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["keys"]))'; }

[ "$(invoke | cut -d' ' -f1)" = 200 ] || fail "the chain does not work before any event"
grep -Eq '^[0-9T:.-]+Z gw-c2p GET /orders/42 200 [0-9]+B [0-9.]+ms$' "$out/serve.log" || fail "--log: no line for the gateway's answer"
grep -Eq '^[0-9T:.-]+Z as-c POST /token 200 ' "$out/serve.log" || fail "--log: no line for the token request"

# The admin endpoint: authorization first.
[ "$(post "" 'rotate_key as-c' | tail -1)" = 401 ] || fail "no token must be 401"
[ "$(post "x$token" 'rotate_key as-c' | tail -1)" = 401 ] || fail "a wrong token must be 401"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$admin")" = 401 ] || fail "GET without a token must be 401"
[ "$(keys)" = 1 ] || fail "as-c should start with one key"
r=$(post "$token" 'rotate_key as-c'); [ "$(echo "$r" | tail -1)" = 200 ] || fail "rotate_key: $r"
[ "$(keys)" = 2 ] || fail "after rotate_key the JWKS should hold two keys"
[ "$(invoke | cut -d' ' -f1)" = 200 ] || fail "the chain fails after a key rotation"
r=$(post "$token" '{rotate_key: nobody}'); [ "$(echo "$r" | tail -1)" = 400 ] || fail "unknown role: $r"
echo "$r" | grep -q "unknown role 'nobody'" || fail "the 400 must name the unknown role: $r"
r=$(post "$token" '{rotate_key: [' ); [ "$(echo "$r" | tail -1)" = 400 ] || fail "malformed event: $r"
r=$(post "$token" '{down: cfa}'); echo "$r" | grep -q "is a client" || fail "down of a client: $r"

# Down and up, from the admin endpoint.
[ "$(post "$token" 'down gw-c2pe' | tail -1)" = 200 ] || fail "down gw-c2pe"
s=$(invoke); [ "${s%% *}" != 200 ] || fail "with gw-c2pe down the chain still answers 200"
echo "$s" | grep -Eq '^50[23]' || fail "with gw-c2pe down, gw-c2p should answer 502/503, got $s"
[ "$(post "$token" 'up gw-c2pe' | tail -1)" = 200 ] || fail "up gw-c2pe"
[ "$(invoke | cut -d' ' -f1)" = 200 ] || fail "the chain does not recover after up"

# From stdin: the backend down and up; a secret rotation locks the old secret out.
stdin_event() {
  echo "$1" >&3
  for _ in $(seq 1 100); do grep -q "^event: $2" "$out/serve.log" && break; sleep 0.05; done
  grep -q "^event: $2" "$out/serve.log" || fail "stdin event '$1' not applied"
}
stdin_event "down pba" "down pba"
s=$(invoke); [ "${s%% *}" != 200 ] || fail "with pba down the chain still answers 200"
stdin_event "up pba" "up pba"
[ "$(invoke | cut -d' ' -f1)" = 200 ] || fail "the chain does not recover after up pba"
old_secret() { curl -s -o /dev/null -w '%{http_code}' -u svc-cfa:cfa-secret -d grant_type=client_credentials "$as_c/token"; }
[ "$(old_secret)" = 200 ] || fail "the CFA's secret works before the rotation"
stdin_event "{rotate_secret: {as: as-c, client: svc-cfa}}" "rotate_secret"
[ "$(old_secret)" = 401 ] || fail "after rotate_secret the old secret still works"
echo "nonsense here" >&3
for _ in $(seq 1 100); do grep -q "^event refused" "$out/serve.log" && break; sleep 0.05; done
grep -q "^event refused" "$out/serve.log" || fail "a bad stdin line must be refused with a reason"

h=$(curl -s -H "Authorization: Bearer $token" "$admin")
n=$(echo "$h" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["events"]))')
[ "$n" -ge 8 ] || fail "history should list every event ($n): $h"
# Loopback only: the admin port is not bound on another address of this machine.
other=$(hostname -I 2>/dev/null | awk '{print $1}')
if [ -n "$other" ] && [ "$other" != 127.0.0.1 ]; then
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$other:$admin_port/events" || true)
  [ "$code" = 000 ] || fail "the admin endpoint answers on $other ($code)"
fi
echo "ok: --log lines, admin events (401 without token, 400 for bad events), stdin events, down/up, key and secret rotation"
