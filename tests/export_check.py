#!/usr/bin/env python3
"""`txlab export` checked four ways, for each scenario given:

1. kubeconform -strict accepts every manifest against the Kubernetes schemas of the oldest and
   newest version we support (pinned; tests/k8s/tools.sh), and `docker-compose config` accepts
   the Compose file.
2. The NetworkPolicies, evaluated the way Kubernetes does (a pod is isolated for ingress once a
   policy selects it; a connection is allowed when some policy selecting the target has a rule
   whose peer matches the source's namespace and pod labels, on the port), allow exactly the
   links the roles are configured to make (each Deployment's --peer list), no more. For the
   broker scenario, also what the brief says: from the cloud, only Gateway-C2PE and the
   back channel AS-C2P -> AS-C2PE reach on-prem; PBA only from Gateway-C2PE.
3. The manifests run: every Deployment is started as its own process the way Kubernetes would
   (its args, its ConfigMap's scenario, its Secret's values as environment), service names
   replaced by loopback ports; each becomes ready on /healthz, and the workload's calls through
   CFA get the statuses the scenario expects (the chain works across processes).
4. The checks fail when they should: a widened policy, a manifest with an unknown field, a
   role started without its Secret.

usage: export_check.py TXLAB OUT_DIR SCENARIO...
"""
import copy
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import yaml

CACHE = os.path.join(os.environ.get("TXLAB_CACHE", os.path.expanduser("~/.cache/txlab")), "k8s")
HERE = os.path.dirname(os.path.abspath(__file__))


class Failure(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failure(what)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=kw.pop("timeout", 120), **kw)


# --- 1. schemas ------------------------------------------------------------------------------

def kubeconform(files):
    bad = []
    for version in sorted(os.listdir(os.path.join(CACHE, "schemas"))):
        loc = os.path.join(CACHE, "schemas", version, "{{ .ResourceKind }}{{ .KindSuffix }}.json")
        p = run([os.path.join(CACHE, "bin", "kubeconform"), "-strict", "-summary",
                 "-schema-location", loc, *files])
        if p.returncode != 0 or "Invalid: 0, Errors: 0, Skipped: 0" not in p.stdout:
            bad.append(f"kubeconform ({version}): {p.stdout[-1500:]}{p.stderr[-500:]}")
        else:
            print(f"  kubeconform -strict ({version}): {p.stdout.strip().splitlines()[-1]}")
    expect(not bad, "\n".join(bad))


def compose_config(path):
    p = run(["docker-compose", "-f", path, "config", "-q"], cwd=os.path.dirname(path))
    expect(p.returncode == 0, f"docker-compose config: {p.stderr[-1500:]}")
    print("  docker-compose config: valid")


# --- 2. policies -----------------------------------------------------------------------------

def load_docs(k8s_dir):
    docs = []
    for f in sorted(glob.glob(os.path.join(k8s_dir, "*.yaml"))):
        docs.extend(d for d in yaml.safe_load_all(open(f)) if d)
    return docs


def matches(selector, labels):
    if selector is None:
        return True
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        raise Failure(f"matchExpressions not evaluated by this test: {e}")
    return True


def pods(docs):
    """role -> (namespace, pod labels, namespace labels, port)."""
    ns_labels = {d["metadata"]["name"]: dict(d["metadata"].get("labels") or {}, **{
        "kubernetes.io/metadata.name": d["metadata"]["name"]}) for d in docs if d["kind"] == "Namespace"}
    out = {}
    for d in docs:
        if d["kind"] != "Deployment":
            continue
        ns = d["metadata"]["namespace"]
        labels = d["spec"]["template"]["metadata"]["labels"]
        port = d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
        out[labels["txlab/role"]] = (ns, labels, ns_labels.get(ns, {"kubernetes.io/metadata.name": ns}), port)
    return out


def allowed(docs, pod_map, src, dst):
    """Kubernetes NetworkPolicy semantics (ingress): may `src` open a connection to `dst`?"""
    dns, dlabels, _, dport = pod_map[dst]
    sns, slabels, snslabels, _ = pod_map[src]
    selecting = [d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["namespace"] == dns
                 and "Ingress" in d["spec"].get("policyTypes", ["Ingress"])
                 and matches(d["spec"].get("podSelector") or {}, dlabels)]
    if not selecting:
        return True  # not isolated
    for pol in selecting:
        for rule in pol["spec"].get("ingress") or []:
            ports = rule.get("ports")
            if ports and not any(p.get("port") in (dport, None) and p.get("protocol", "TCP") == "TCP"
                                 for p in ports):
                continue
            peers = rule.get("from")
            if peers is None:
                return True
            for peer in peers:
                if "ipBlock" in peer:
                    continue
                ns_sel, pod_sel = peer.get("namespaceSelector"), peer.get("podSelector")
                ns_ok = matches(ns_sel, snslabels) if ns_sel is not None else sns == dns
                if ns_ok and matches(pod_sel, slabels):
                    return True
    return False


def configured_links(docs):
    links = set()
    for d in docs:
        if d["kind"] != "Deployment":
            continue
        role = d["spec"]["template"]["metadata"]["labels"]["txlab/role"]
        args = d["spec"]["template"]["spec"]["containers"][0]["args"]
        for i, a in enumerate(args):
            if a == "--peer":
                links.add((role, args[i + 1].split("=", 1)[0]))
    return links


def check_policies(docs, scenario_name):
    pod_map = pods(docs)
    want = configured_links(docs)
    got = {(a, b) for a in pod_map for b in pod_map if a != b and allowed(docs, pod_map, a, b)}
    expect(got == want, f"policies allow {sorted(got - want)} beyond the declared links and "
                        f"deny {sorted(want - got)} of them")
    if scenario_name == "broker":
        zone = {r: v[1]["txlab/zone"] for r, v in pod_map.items()}
        cross = {(a, b) for a, b in got if zone[a] == "cloud" and zone[b] == "on-prem"}
        expect({b for _, b in cross} <= {"gw-c2pe", "as-c2pe"}, f"cloud reaches on-prem at {cross}")
        expect(("as-c2p", "as-c2pe") in cross and ("gw-c2p", "gw-c2pe") in cross,
               "the declared cross-zone links are open")
        expect({a for a, b in got if b == "pba"} == {"gw-c2pe"}, "PBA only from Gateway-C2PE")
    print(f"  network policies: exactly the {len(want)} declared links of {len(pod_map)} roles "
          f"({len(pod_map) * (len(pod_map) - 1) - len(want)} other pairs denied)")
    return pod_map


# --- 3. the manifests run ----------------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(method, url, body=None, timeout=10):
    req = urllib.request.Request(url, data=body, method=method,
                                 headers={"Content-Type": "application/json"} if body else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def start_roles(txlab, docs, work, drop_secret_of=None):
    """Every Deployment as a process: (role -> Popen, role -> port)."""
    configmaps = {(d["metadata"]["namespace"], d["metadata"]["name"]): d for d in docs if d["kind"] == "ConfigMap"}
    secrets = {(d["metadata"]["namespace"], d["metadata"]["name"]): d for d in docs if d["kind"] == "Secret"}
    services = {}
    for d in docs:
        if d["kind"] == "Service":
            services[f"{d['metadata']['name']}.{d['metadata']['namespace']}.svc.cluster.local"] = \
                d["spec"]["selector"]["txlab/role"]
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    ports = {d["spec"]["template"]["metadata"]["labels"]["txlab/role"]: free_port() for d in deployments}
    procs = {}
    for d in deployments:
        ns = d["metadata"]["namespace"]
        spec = d["spec"]["template"]["spec"]
        role = d["spec"]["template"]["metadata"]["labels"]["txlab/role"]
        c = spec["containers"][0]
        cm = configmaps[(ns, spec["volumes"][0]["configMap"]["name"])]
        path = os.path.join(work, role + ".yaml")
        open(path, "w").write(cm["data"]["scenario.yaml"])
        env = {k: v for k, v in os.environ.items() if not k.startswith("TXLAB_SECRET_")}
        for e in c.get("env", []):
            ref = e["valueFrom"]["secretKeyRef"]
            if role != drop_secret_of:
                env[e["name"]] = secrets[(ns, ref["name"])]["stringData"][ref["key"]]
        args = []
        for a in c["args"]:
            a = a.replace("/etc/txlab/scenario.yaml", path)
            a = a.replace(f"0.0.0.0:{c['ports'][0]['containerPort']}", f"127.0.0.1:{ports[role]}")
            if a.startswith("http://") or "=http://" in a:
                peer, url = a.split("=", 1)
                host = url[len("http://"):].split(":")[0]
                expect(host in services, f"{role}: --peer {a} names no Service")
                a = f"{peer}=http://127.0.0.1:{ports[services[host]]}"
            args.append(a)
        log = open(os.path.join(work, role + ".log"), "w")
        procs[role] = subprocess.Popen([txlab, *args], stdout=log, stderr=subprocess.STDOUT, env=env)
    return procs, ports


def stop(procs):
    for p in procs.values():
        if p.poll() is None:
            p.terminate()
    for p in procs.values():
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


def wait_ready(txlab, procs, ports, work, deadline_s=30):
    end = time.time() + deadline_s
    for role, port in ports.items():
        while True:
            if procs[role].poll() is not None:
                raise Failure(f"{role} exited {procs[role].returncode}: "
                              + open(os.path.join(work, role + ".log")).read()[-800:])
            if run([txlab, "health", f"http://127.0.0.1:{port}/healthz"]).returncode == 0:
                break
            if time.time() > end:
                raise Failure(f"{role} not ready on /healthz within {deadline_s} s")
            time.sleep(0.1)


def check_runs(txlab, docs, scenario_file, work):
    scenario = yaml.safe_load(open(scenario_file))
    procs, ports = start_roles(txlab, docs, work)
    try:
        wait_ready(txlab, procs, ports, work)
        calls = 0
        for call in scenario.get("workload", []):
            want = (call.get("expect") or {}).get("status", 200)
            status, body = http("POST", f"http://127.0.0.1:{ports[call['from']]}/invoke",
                                json.dumps({"to": call["to"], "path": call.get("path", "/"),
                                            "method": call.get("method", "GET")}).encode())
            got = json.loads(body).get("status") if status == 200 else None
            expect(got == want, f"'{call['name']}': {call['from']} -> {call['to']} gave {status} "
                                f"{body[:300]}, want status {want}")
            calls += 1
        print(f"  the manifests run: {len(procs)} processes ready on /healthz, {calls} workload calls "
              f"got their expected status across processes")
    finally:
        stop(procs)


# --- 4. the checks fail when they should --------------------------------------------------------

def must_fail(what, fn):
    try:
        fn()
    except Failure as e:
        print(f"  self-check: {what}: caught ({str(e).splitlines()[0][:140]})")
        return
    raise Failure(f"self-check: {what} went unnoticed")


def self_checks(txlab, docs, scenario_name, k8s_dir, work):
    widened = copy.deepcopy(docs)
    for d in widened:
        if d["kind"] == "NetworkPolicy" and d["metadata"]["name"].startswith("allow-to-"):
            d["spec"]["ingress"][0]["from"].append({"namespaceSelector": {}})  # any namespace
            break
    must_fail("a widened policy", lambda: check_policies(widened, scenario_name))
    bad_dir = os.path.join(work, "bad-k8s")
    os.makedirs(bad_dir, exist_ok=True)
    bad = copy.deepcopy([d for d in docs if d["kind"] == "Deployment"][:1])
    bad[0]["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {}
    bad_file = os.path.join(bad_dir, "bad.yaml")
    yaml.safe_dump_all(bad, open(bad_file, "w"))
    must_fail("a manifest with an unknown field", lambda: kubeconform([bad_file]))
    with_secret = sorted({d["metadata"]["labels"]["txlab/role"] for d in docs if d["kind"] == "Secret"})
    if with_secret:
        def without_secret():
            procs, ports = start_roles(txlab, docs, work, drop_secret_of=with_secret[0])
            try:
                wait_ready(txlab, procs, ports, work, deadline_s=10)
            finally:
                stop(procs)
        must_fail(f"{with_secret[0]} started without its Secret", without_secret)


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    txlab, out = sys.argv[1], sys.argv[2]
    tools = run(["bash", os.path.join(HERE, "k8s", "tools.sh")], timeout=600)
    if tools.returncode != 0:
        print(f"FAIL tests/k8s/tools.sh: {tools.stdout[-800:]}{tools.stderr[-1500:]}")
        return 1
    shutil.rmtree(out, ignore_errors=True)
    try:
        for scenario in sys.argv[3:]:
            name = os.path.splitext(os.path.basename(scenario))[0]
            print(f"{name}:")
            k8s_dir, compose = os.path.join(out, name, "k8s"), os.path.join(out, name, "compose.yaml")
            work = os.path.join(out, name, "run")
            os.makedirs(work)
            for args in (["--k8s", k8s_dir], ["--compose", compose]):
                p = run([txlab, "export", scenario, *args])
                expect(p.returncode == 0, f"txlab export {' '.join(args)}: {p.stderr}")
            files = sorted(glob.glob(os.path.join(k8s_dir, "*.yaml")))
            kubeconform(files)
            compose_config(compose)
            docs = load_docs(k8s_dir)
            check_policies(docs, yaml.safe_load(open(scenario)).get("scenario"))
            check_runs(txlab, docs, scenario, work)
            self_checks(txlab, docs, yaml.safe_load(open(scenario)).get("scenario"), k8s_dir, work)
    except (Failure, subprocess.TimeoutExpired) as e:
        print(f"FAIL {e}")
        return 1
    print("export_check: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
