#!/usr/bin/env python3
"""The table of bench/vendors: per AS the direct chain (txlab load) and the token endpoint alone
(wrk: client_credentials and token exchange), requests/s and p50/p99; writes JSON.

usage: vendors_report.py WORKDIR OUT.json CONNECTIONS DURATION TXLAB_LABEL KEYCLOAK_LABEL SPRING_LABEL
"""
import json
import os
import platform
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
from report import parse  # noqa: E402  (wrk's output, as bench/peers reads it)


def wrk(path):
    out = parse(path)
    if out["rps"] == 0.0 or out["p50_ms"] is None:
        sys.exit(f"vendors_report: {path}: no requests completed")
    return out


def chain(path):
    report = json.load(open(path))
    first = report["paths"][0]
    return {"rps": first["calls"] / report["elapsed_s"], "errors": first["errors"],
            "p50_ms": first["p50_us"] / 1000, "p99_ms": first["p99_us"] / 1000}


def cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def main(work, out_path, connections, duration, *labels):
    names = ["txlab", "keycloak", "spring"]
    rows = {}
    for name, label in zip(names, labels):
        rows[label] = {"chain": chain(os.path.join(work, f"{name}-chain.json")),
                       "client_credentials": wrk(os.path.join(work, f"{name}-cc.wrk")),
                       "token_exchange": wrk(os.path.join(work, f"{name}-exchange.wrk"))}
    machine = f"{os.cpu_count()} cores, {cpu()}"
    json.dump({"machine": machine, "connections": int(connections), "duration_s": int(duration),
               "servers": rows}, open(out_path, "w"), indent=1)
    cell = lambda r: f"{r['rps']:.0f} /s · {r['p50_ms']:.2f} / {r['p99_ms']:.2f} ms" + (
        f" · {r['errors']} errors" if r["errors"] else "")
    print(f"machine: {machine}; token endpoint: wrk 2 threads, {connections} connections, {duration} s;"
          f" chain: txlab load, 8 callers, closed loop, {duration} s")
    print("| authorization server | direct chain (req/s · p50 / p99) | client_credentials | token exchange |")
    print("| --- | --- | --- | --- |")
    for label, r in rows.items():
        print(f"| {label} | {cell(r['chain'])} | {cell(r['client_credentials'])} | {cell(r['token_exchange'])} |")
    bad = [f"{label} {what}" for label, r in rows.items() for what, x in r.items() if x["errors"]]
    if bad:
        print("errors in: " + ", ".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
