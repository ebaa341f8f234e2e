#!/usr/bin/env bash
# Installs the Debian 12 packages txlab needs, and only those that are missing.
# Used by `make demo` (--demo: only what building and running txlab needs) and `make test`
# (everything the tests use, npm packages included); safe to run repeatedly.
set -euo pipefail

demo=0
[ "${1:-}" = "--demo" ] && demo=1

PACKAGES=(
  build-essential cmake ninja-build pkgconf ccache
  libssl-dev libcpp-httplib-dev nlohmann-json3-dev libyaml-cpp-dev libboost-dev
)
if [ $demo -eq 0 ]; then
  PACKAGES+=(libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev python3 python3-jwcrypto clang-format clang libclang-rt-14-dev
             openjdk-17-jdk-headless maven unzip curl chromium docker-compose python3-yaml python3-jsonschema iproute2 iptables util-linux shellcheck)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js runs the interop checks (tests only); keep a newer node if one is installed.
if [ $demo -eq 0 ] && { ! command -v node >/dev/null || ! command -v npm >/dev/null; }; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "txlab: installing missing packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "txlab: these Debian packages are missing and this user cannot install them (not root, no sudo)." >&2
      echo "txlab: as root, run:  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
      exit 1
    fi
    SUDO="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ $demo -eq 1 ] && exit 0

# npm packages of the interop checks, pinned by tests/interop/package-lock.json.
here=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -d "$here/tests/interop/node_modules/openid-client" ] || [ ! -d "$here/tests/interop/node_modules/@jmondi/oauth2-server" ]; then
  echo "txlab: installing npm packages for tests/interop"
  if ! (cd "$here/tests/interop" && npm ci --no-audit --no-fund --loglevel=error); then
    echo "txlab: npm ci failed in tests/interop. Behind a TLS-intercepting proxy, point npm at its CA" >&2
    echo "txlab: (npm config set cafile /path/to/ca.pem, or NODE_EXTRA_CA_CERTS) and run make test again." >&2
    exit 1
  fi
fi

# kubeconform and Kubernetes schemas for the export test (Go module proxy, PyPI; pinned, cached).
bash "$here/tests/k8s/tools.sh"
# actionlint for the CI recipes test (Go module proxy; pinned, cached; tests/ci/tools.sh).
bash "$here/tests/ci/tools.sh"
