#!/usr/bin/env python3
"""Parses the four wrk runs of bench/peers/run and prints the side-by-side table with the
targets (AS >= 4x oidc-provider, Gateway-C2PE >= 2x Apache mod_auth_openidc); writes JSON.

usage: report.py WORKDIR OUT.json THREADS CONNECTIONS DURATION OP_LABEL APACHE_LABEL
"""
import json
import re
import sys

UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def parse(path):
    text = open(path).read()
    out = {"rps": 0.0, "errors": 0, "timeouts": 0, "p50_ms": None, "p99_ms": None}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        out["rps"] = float(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if m:
        out["errors"] += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        # Failed connections, reads and writes invalidate a run; wrk's "timeout" counts answers
        # slower than its 2 s limit: reported as latency, not as failures.
        out["errors"] += sum(int(x) for x in m.groups()[:3])
        out["timeouts"] = int(m.group(4))
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if m:
            out[key] = float(m.group(1)) * UNIT[m.group(2)]
    return out


def main(work, out_path, threads, connections, duration, op_label, apache_label):
    runs = {name: parse(f"{work}/{name}.txt") for name in ("txlab-as", "oidc-provider", "txlab-gateway", "apache")}
    rows = [
        ("token endpoint, client_credentials (ES256 JWT)", "txlab-as", "oidc-provider", op_label, 4.0),
        ("JWT-validating gateway in front of PBA", "txlab-gateway", "apache", apache_label, 2.0),
    ]
    print(f"\nSide by side · wrk -t{threads} -c{connections} -d{duration}s · ES256 · one run, this machine\n")
    print(f"{'comparison':48} {'txlab req/s':>12} {'peer req/s':>11} {'ratio':>6} {'goal':>7}  status   peer")
    result = {"threads": int(threads), "connections": int(connections), "duration_s": int(duration), "comparisons": []}
    ok_all = True
    for title, ours, theirs, label, goal in rows:
        a, b = runs[ours], runs[theirs]
        ratio = a["rps"] / b["rps"] if b["rps"] else 0.0
        valid = a["errors"] == 0 and b["errors"] == 0 and a["rps"] > 0 and b["rps"] > 0
        status = "met" if valid and ratio >= goal else ("INVALID" if not valid else "MISSED")
        ok_all = ok_all and valid
        print(f"{title:48} {a['rps']:12.0f} {b['rps']:11.0f} {ratio:6.2f} {'>= ' + format(goal, '.1f'):>7}  {status:8} {label}")
        for side, r in (("txlab", a), ("peer", b)):
            lat = f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms" if r["p50_ms"] is not None else "latency n/a"
            extra = (f", {r['errors']} errors" if r["errors"] else "") + (f", {r['timeouts']} slower than 2 s" if r["timeouts"] else "")
            print(f"{'':50}{side:6} {lat}{extra}")
        result["comparisons"].append({"name": title, "txlab": a, "peer": b, "peer_label": label, "ratio": ratio, "goal": goal,
                                      "status": status})
    # The gateway's throughput curve and memory under sustained load.
    import os
    high = f"{work}/txlab-gateway-256.txt"
    if os.path.exists(high):
        r256 = parse(high)
        r16 = runs["txlab-gateway"]
        ratio = r256["rps"] / r16["rps"] if r16["rps"] else 0.0
        valid = r256["errors"] == 0 and r256["rps"] > 0
        status = "met" if valid and ratio >= 0.8 else ("INVALID" if not valid else "MISSED")
        print(f"{'gateway at 256 vs 16 connections':48} {r256['rps']:12.0f} {r16['rps']:11.0f} {ratio:6.2f} {'>= 0.8':>7}  {status:8} (flat within 20 %)")
        lat = f"p50 {r256['p50_ms']:.2f} ms, p99 {r256['p99_ms']:.2f} ms" if r256["p50_ms"] is not None else "latency n/a"
        print(f"{'':50}{'256':6} {lat}" + (f", {r256['timeouts']} slower than 2 s" if r256["timeouts"] else ""))
        result["gateway_curve"] = {"c16": r16, "c256": r256, "ratio": ratio, "status": status}
        ok_all = ok_all and valid
    soak = f"{work}/soak.txt"
    if os.path.exists(soak):
        rows_ = [line.split() for line in open(soak) if line.strip()]
        (t0, k0), (t1, k1) = (int(rows_[0][0]), int(rows_[0][1])), (int(rows_[-1][0]), int(rows_[-1][1]))
        ratio = k1 / k0 if k0 else 0.0
        status = "met" if ratio <= 1.05 else "MISSED"
        print(f"{'serve RSS under wrk, end vs 30 s':48} {k1 / 1024:9.1f} MiB {k0 / 1024:8.1f} MiB {ratio:6.2f} {'<= 1.05':>7}  {status:8} ({t1} s vs {t0} s)")
        result["soak"] = {"t0_s": t0, "rss0_kib": k0, "t1_s": t1, "rss1_kib": k1, "ratio": ratio, "status": status}
    with open(out_path, "w") as f:
        json.dump(result, f, indent=2)
    print(f"\nJSON: {out_path}")
    return 0 if ok_all else 1


if __name__ == "__main__":
    if len(sys.argv) != 8:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
