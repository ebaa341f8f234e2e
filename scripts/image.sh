#!/usr/bin/env bash
# Builds the txlab container image from the Dockerfile and runs it, without a Docker engine:
#   1. a Debian 12 base: debootstrap (minbase) trimmed like debian:12-slim, imported into buildah
#      as debian:12-slim (cached as a tarball; built once per machine)
#   2. buildah bud --isolation chroot (both stages; a ccache directory mounted into the build)
#   3. in the image, as its non-root user: `txlab run` of the broker scenario must PASS, one role
#      started with `serve --role` must answer /healthz and its JWKS from the host, no compiler
#      or source tree may be present, and the image must be at most 120 MB.
# Needs root (debootstrap, buildah's chroot isolation). Used by .ci/run and `make image`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${TXLAB_CACHE:-$HOME/.cache/txlab}
TAG=${TXLAB_IMAGE:-localhost/txlab:ci}
MAX_BYTES=$((120 * 1000 * 1000))
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
export STORAGE_DRIVER=vfs   # works wherever the kernel or sandbox refuses overlay mounts
export BUILDAH_ISOLATION=chroot

say() { echo "image: $*"; }
if [ "$(id -u)" -ne 0 ]; then
  echo "image: building and running the image needs root (debootstrap, buildah --isolation chroot)" >&2
  exit 2
fi
missing=()
for p in buildah debootstrap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 1. The base image.
base_tar=$CACHE/debian-12-slim-rootfs.tar
if [ ! -s "$base_tar" ]; then
  say "debootstrap bookworm (minbase) from $MIRROR, once per machine"
  root=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$CACHE/debootstrap.log"; exit 1; }
  # What the slim image leaves out: documentation, manuals, locales; apt lists and caches.
  cat >"$root/etc/dpkg/dpkg.cfg.d/txlab-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
  find "$root/usr/share/doc" -mindepth 2 ! -name copyright -type f -delete 2>/dev/null || true
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/lintian/* \
    "$root"/var/lib/apt/lists/* \
    "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*
  mkdir -p "$CACHE"
  tar -C "$root" -cf "$base_tar.tmp" . && mv "$base_tar.tmp" "$base_tar"
  rm -rf "$root"
fi
if ! buildah inspect --type image docker.io/library/debian:12-slim >/dev/null 2>&1; then
  say "importing the base as debian:12-slim"
  ctr=$(buildah from scratch)
  mnt=$(buildah mount "$ctr")
  tar -C "$mnt" -xf "$base_tar"
  buildah umount "$ctr" >/dev/null
  buildah config --cmd /bin/bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
  buildah commit --quiet "$ctr" docker.io/library/debian:12-slim >/dev/null
  buildah rm "$ctr" >/dev/null
fi

# 2. The image.
mkdir -p "$CACHE/image-ccache"
start=$(date +%s)
say "buildah bud (build stage + runtime stage)"
buildah bud --isolation chroot --format docker --pull-never --layers \
  --volume "$CACHE/image-ccache:/root/.cache/ccache" -t "$TAG" "$here" >"$CACHE/image-build.log" 2>&1 \
  || { tail -40 "$CACHE/image-build.log"; echo "image: build failed (log: $CACHE/image-build.log)"; exit 1; }
say "built $TAG in $(( $(date +%s) - start )) s"

# 3. Run it.
ctr=$(buildah from --pull-never "$TAG")
cleanup() {
  if [ -n "${serve_pid:-}" ]; then
    kill "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
  buildah rm "$ctr" >/dev/null 2>&1 || true
}
trap cleanup EXIT
in_image() { buildah run --isolation chroot "$ctr" -- "$@"; }

uid=$(in_image id -u)
[ "$uid" = 10001 ] || { echo "image: runs as uid $uid, not the non-root 10001"; exit 1; }
for tool in cc c++ g++ cmake node npm java; do
  if in_image sh -c "command -v $tool" >/dev/null 2>&1; then echo "image: $tool is in the runtime image"; exit 1; fi
done
if in_image test -e /src 2>/dev/null; then echo "image: the source tree is in the runtime image"; exit 1; fi

out=$(in_image txlab run /usr/share/txlab/scenarios/broker.yaml 2>&1) \
  || { echo "$out" | tail -30; echo "image: txlab run failed in the image"; exit 1; }
echo "$out" | grep -q "verdict: PASS" || { echo "$out" | tail -30; echo "image: no PASS verdict"; exit 1; }
say "txlab run scenarios/broker.yaml in the image: $(echo "$out" | grep 'verdict:')"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
buildah run --isolation chroot "$ctr" -- txlab serve /usr/share/txlab/scenarios/broker.yaml \
  --role as-c --listen "127.0.0.1:$port" >"$CACHE/image-serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$serve_pid" 2>/dev/null || { cat "$CACHE/image-serve.log"; echo "image: serve --role exited"; exit 1; }
  sleep 0.1
done
health=$(curl -fsS "http://127.0.0.1:$port/healthz") || { cat "$CACHE/image-serve.log"; exit 1; }
in_image txlab health "http://127.0.0.1:$port/healthz" \
  || { echo "image: the image's own health check failed"; exit 1; }
keys=$(curl -fsS "http://127.0.0.1:$port/jwks" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["keys"]))')
say "serve --role as-c in the image: /healthz $health, JWKS with $keys key(s), health check ok"

# The image's size: its file system, uncompressed (what `docker images` shows).
size=$(du -sb "$(buildah mount "$ctr")" | cut -f1)
buildah umount "$ctr" >/dev/null
say "size of $TAG: $((size / 1000000)) MB ($size bytes; limit $((MAX_BYTES / 1000000)) MB)"
[ "$size" -le "$MAX_BYTES" ] || { echo "image: larger than $((MAX_BYTES / 1000000)) MB"; exit 1; }
buildah rmi --prune >/dev/null 2>&1 || true
cleanup
trap - EXIT
serve_pid=""
say "ok"
exit 0
