#!/usr/bin/env bash
# The tools that validate `txlab export`, pinned and cached (installed by scripts/install-deps.sh,
# and on first use by the export test):
#   kubeconform (Go module) in $CACHE/k8s/bin
#   Kubernetes JSON schemas, strict (additionalProperties: false), for the kinds txlab exports,
#   derived from the schemas the PyPI package kubernetes-validate ships (its schemas refer to one
#   shared definitions file; kubeconform needs each kind standalone) in $CACHE/k8s/schemas/vX
# Prints nothing when everything is present.
set -euo pipefail
KUBECONFORM_VERSION=v0.6.7
KUBERNETES_VALIDATE_VERSION=1.37.0
KUBERNETES_VALIDATE_SHA256=85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9
K8S_VERSIONS="1.28.0 1.37.0"   # the oldest and newest we validate against
CACHE=${TXLAB_CACHE:-$HOME/.cache/txlab}/k8s
mkdir -p "$CACHE/bin" "$CACHE/schemas"

if [ ! -x "$CACHE/bin/kubeconform-$KUBECONFORM_VERSION" ]; then
  echo "txlab: installing kubeconform $KUBECONFORM_VERSION (Go module proxy)"
  if ! command -v go >/dev/null; then
    echo "txlab: Go is missing: installing Debian's golang-go"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends golang-go >/dev/null
  fi
  tmp=$(mktemp -d)
  GOPATH="$tmp/gopath" GOBIN="$tmp/bin" GOFLAGS=-modcacherw go install \
    "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
  mv "$tmp/bin/kubeconform" "$CACHE/bin/kubeconform-$KUBECONFORM_VERSION"
  rm -rf "$tmp"
fi
ln -sf "kubeconform-$KUBECONFORM_VERSION" "$CACHE/bin/kubeconform"

need=0
for v in $K8S_VERSIONS; do
  [ -f "$CACHE/schemas/v$v/.done-$KUBERNETES_VALIDATE_VERSION" ] || need=1
done
if [ $need -eq 1 ]; then
  echo "txlab: deriving Kubernetes schemas from kubernetes-validate $KUBERNETES_VALIDATE_VERSION (PyPI)"
  tmp=$(mktemp -d)
  # The wheel from PyPI's simple index (no pip needed), checked against its pinned digest.
  python3 - "$tmp" "$KUBERNETES_VALIDATE_VERSION" "$KUBERNETES_VALIDATE_SHA256" <<'PY'
import hashlib, os, re, sys, urllib.request
dest, version, digest = sys.argv[1:]
name = f"kubernetes_validate-{version}-py3-none-any.whl"
index = urllib.request.urlopen("https://pypi.org/simple/kubernetes-validate/", timeout=60).read().decode()
m = re.search(r'href="([^"#]*' + re.escape(name) + r')[^"]*"', index)
if not m:
    sys.exit(f"{name} is not on PyPI's simple index")
url = urllib.parse.urljoin("https://pypi.org/simple/kubernetes-validate/", m.group(1))
data = urllib.request.urlopen(url, timeout=300).read()
if hashlib.sha256(data).hexdigest() != digest:
    sys.exit(f"{name}: sha256 {hashlib.sha256(data).hexdigest()} is not the pinned {digest}")
open(os.path.join(dest, name), "wb").write(data)
PY
  python3 - "$tmp"/kubernetes_validate-*.whl "$CACHE/schemas" "$KUBERNETES_VALIDATE_VERSION" $K8S_VERSIONS <<'PY'
import json, os, sys, zipfile
wheel, out, pkg, versions = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
kinds = ["namespace-v1", "configmap-v1", "secret-v1", "service-v1", "deployment-apps-v1",
         "networkpolicy-networking-v1"]
z = zipfile.ZipFile(wheel)
prefix = "kubernetes_validate/kubernetes-json-schema/"
for v in versions:
    base = f"{prefix}v{v}-local-strict/"
    defs = json.loads(z.read(base + "_definitions.json"))["$defs"]
    ref = '"/api/_definitions.json#/$defs/'
    defs_text = json.dumps(defs).replace(ref, '"#/$defs/')
    d = os.path.join(out, "v" + v)
    os.makedirs(d, exist_ok=True)
    for k in kinds:
        schema = json.loads(json.dumps(json.loads(z.read(base + k + ".json"))).replace(ref, '"#/$defs/'))
        schema["$defs"] = json.loads(defs_text)
        json.dump(schema, open(os.path.join(d, k + ".json"), "w"))
    open(os.path.join(d, ".done-" + pkg), "w").close()
PY
  rm -rf "$tmp"
fi
