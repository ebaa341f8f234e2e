#!/usr/bin/env bash
# Installs the Debian 12 packages txlab needs, and only those that are missing.
# Used by `make demo` and `make test`; safe to run repeatedly.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkgconf ccache
  libssl-dev libcpp-httplib-dev nlohmann-json3-dev libyaml-cpp-dev libboost-dev
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  python3 python3-jwcrypto clang-format
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js runs the interop check with openid-client; keep a newer node if one is installed.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "txlab: installing missing packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages of the interop checks, pinned by tests/interop/package-lock.json.
here=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -d "$here/tests/interop/node_modules/openid-client" ] || [ ! -d "$here/tests/interop/node_modules/@jmondi/oauth2-server" ]; then
  echo "txlab: installing npm packages for tests/interop"
  (cd "$here/tests/interop" && npm ci --no-audit --no-fund --loglevel=error)
fi
