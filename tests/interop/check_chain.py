#!/usr/bin/env python3
"""Checks a vendor chain run (`txlab run --json`): every call passed, and every token in the
trace is the vendor's own (its issuer, RS256).

usage: check_chain.py RUN.json ISSUER VENDOR
"""
import json
import sys

run, iss, vendor = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
calls = run["calls"]
assert calls and all(c["ok"] for c in calls), "the chain did not pass"
seen = 0
for c in calls:
    for t in c["tokens"]:
        assert t["claims"].get("iss") == iss, f"{t['label']}: iss {t['claims'].get('iss')} is not {vendor}'s {iss}"
        assert t.get("header", {}).get("alg") == "RS256", t.get("header")
        seen += 1
assert seen >= 2, f"expected AT1 and AT2 in the trace, saw {seen} tokens"
print(f"{vendor} chain: {len(calls)} call(s) passed; {seen} {vendor} tokens decoded in the trace")
