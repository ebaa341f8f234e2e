#!/usr/bin/env bash
# The tool that checks docs/ci/github-actions.yml, pinned and cached (installed by
# scripts/install-deps.sh, and on first use by the ci.* tests):
#   actionlint (Go module) in $CACHE/ci/bin; it runs shellcheck on the `run:` scripts when
#   Debian's shellcheck is on PATH (scripts/install-deps.sh installs it).
# actionlint's go.mod needs Go >= 1.25. When the Go on PATH is older (Debian 12's golang-go is
# 1.19), the toolchain module golang.org/toolchain is fetched from the Go module proxy (checked
# against the checksum database, as `GOTOOLCHAIN` would do) and builds it.
# Prints nothing when everything is present; prints the binary's path with --print-path.
set -euo pipefail
ACTIONLINT_VERSION=v1.7.12
GO_TOOLCHAIN=go1.25.14   # actionlint v1.7.12 declares go 1.25.0
CACHE=${TXLAB_CACHE:-$HOME/.cache/txlab}/ci
BIN=$CACHE/bin/actionlint-$ACTIONLINT_VERSION
mkdir -p "$CACHE/bin"

if [ ! -x "$BIN" ]; then
  echo "txlab: installing actionlint $ACTIONLINT_VERSION (Go module proxy)" >&2
  if ! command -v go >/dev/null; then
    echo "txlab: Go is missing: installing Debian's golang-go" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends golang-go >/dev/null
  fi
  tmp=$(mktemp -d)
  trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
  export GOPATH="$tmp/gopath" GOBIN="$tmp/bin" GOFLAGS=-modcacherw GOTOOLCHAIN=local
  go=go
  have=$(go env GOVERSION)
  oldest=$(printf '%s\n%s\n' "$have" "$GO_TOOLCHAIN" | sed 's/^go//' | sort -V | head -1)
  if [ "go$oldest" != "$GO_TOOLCHAIN" ]; then
    echo "txlab: $have is older than actionlint needs: fetching the $GO_TOOLCHAIN toolchain module" >&2
    mod="golang.org/toolchain@v0.0.1-$GO_TOOLCHAIN.$(go env GOOS)-$(go env GOARCH)"
    dir=$(cd "$tmp" && go mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    if [ -z "$dir" ] || [ ! -f "$dir/bin/go" ]; then echo "txlab: could not download $mod" >&2; exit 1; fi
    # Module zips keep no exec bits (the go command restores them the same way when it switches).
    chmod -R u+x "$dir/bin" "$dir/pkg/tool"
    export GOROOT="$dir"
    go="$dir/bin/go"
  fi
  "$go" install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  mv "$tmp/bin/actionlint" "$BIN"
fi
ln -sf "actionlint-$ACTIONLINT_VERSION" "$CACHE/bin/actionlint"
[ "${1:-}" = "--print-path" ] && echo "$BIN"
exit 0
