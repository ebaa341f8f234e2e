#!/usr/bin/env bash
# txlab run --netns: the broker chain passes with each zone in its own network namespace and only
# the declared links open (every pair of roles tried: cloud reaches on-prem only at the
# gateway's entry and the broker's back channel; PBA only from its gateway); a fault scenario
# runs with its proxies on the zone boundary; without root the run is refused with the reason.
set -euo pipefail
txlab=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
fail() { echo "FAIL: $*"; exit 1; }
"$txlab" run "$src/scenarios/broker.yaml" --netns --json "$out/broker.json" >"$out/broker.txt" 2>&1 \
  || { tail -30 "$out/broker.txt"; fail "broker --netns"; }
python3 - "$out/broker.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"], "the chain must pass"
n = d["network"]
assert n["mismatches"] == 0, n
state = {(p["from"], p["to"]): p["actual"] for p in n["pairs"]}
for pair, want in {("gw-c2p", "gw-c2pe"): "open", ("as-c2p", "as-c2pe"): "open",
                   ("gw-c2pe", "pba"): "open", ("cfa", "pba"): "closed",
                   ("gw-c2p", "pba"): "closed", ("as-c", "as-c2pe"): "closed",
                   ("pba", "gw-c2p"): "closed", ("gw-c2pe", "gw-c2p"): "closed"}.items():
    assert state[pair] == want, f"{pair}: {state[pair]}, want {want}"
assert {a for (a, b), s in state.items() if b == "pba" and s == "open"} == {"gw-c2pe", "as-c2pe"}, state
nets = {ip.rsplit(".", 1)[0] for ip in n["addresses"].values()}
assert len(nets) == 2, f"one subnet per zone: {n['addresses']}"
PY
"$txlab" run "$src/scenarios/faults/vpn-latency.yaml" --netns --quiet --json "$out/vpn.json" >"$out/vpn.txt" 2>&1 \
  || { tail -30 "$out/vpn.txt"; fail "vpn-latency --netns (proxies on the zone boundary)"; }
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["network"]["mismatches"]==0 and d["faults"], d["network"]' "$out/vpn.json"
"$txlab" attack "$src/scenarios/broker.yaml" --netns --quiet --json "$out/attack.json" >"$out/attack.txt" 2>&1 \
  || { tail -30 "$out/attack.txt"; fail "attack --netns"; }
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["failed"]==0 and d["network"]["mismatches"]==0 and len(d["network"]["pairs"])==42, d["network"]' "$out/attack.json"
set +e
setpriv --reuid=65534 --regid=65534 --clear-groups "$txlab" run "$src/scenarios/broker.yaml" --netns >"$out/nonroot.txt" 2>&1
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "need root" "$out/nonroot.txt" || { cat "$out/nonroot.txt"; fail "without root: exit $rc"; }
leftover=$(ip netns list | grep -c "^txlab-" || true)
[ "$leftover" = 0 ] || fail "$leftover txlab namespaces left behind"
echo "ok: --netns broker PASS with only declared links open; attack catalogue and network layer under --netns; faults on the boundary; non-root refused"
