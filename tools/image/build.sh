#!/usr/bin/env bash
# `make image`: build the action's image with podman (or docker) from a base given as BASE, else
# python:3.12-slim when the engine has it, else a local base made from Debian packages
# (tools/image/make-base.sh); then smoke-test the built image's entrypoint (tools/image/smoke.py) and
# print its size next to the base's. Not part of `make test`.
#   make image [IMAGE=aqe-artifacts:dev] [BASE=python:3.12-slim] [ENGINE=podman]
set -euo pipefail
cd "$(dirname "$0")/../.."
image=${IMAGE:-aqe-artifacts:dev}
python=${PYTHON:-.venv/bin/python}
# podman first; docker only when its daemon answers (a docker CLI without a daemon cannot build)
if [ -z "${ENGINE:-}" ]; then
  ENGINE=$(command -v podman || true)
  if [ -z "$ENGINE" ] && command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then ENGINE=$(command -v docker); fi
fi
engine=${ENGINE:-}
if [ -z "$engine" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing podman and debootstrap (apt-get)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman debootstrap; } >/dev/null
  engine=$(command -v podman)
fi
[ -n "$engine" ] || { echo "make image needs podman or docker" >&2; exit 1; }
exists() { "$engine" image inspect "$1" >/dev/null 2>&1; }

base=${BASE:-}
if [ -z "$base" ]; then
  if exists python:3.12-slim; then base=python:3.12-slim
  elif exists docker.io/library/python:3.12-slim; then base=docker.io/library/python:3.12-slim
  else
    base=localhost/aqe-python-base:bookworm
    if ! exists "$base"; then
      command -v debootstrap >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } >/dev/null
      echo "no python:3.12-slim here: making $base from Debian packages (tools/image/make-base.sh)"
      ENGINE="$engine" tools/image/make-base.sh "$base"
    fi
  fi
fi

ca=${CA_BUNDLE:-}
for f in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
  [ -n "$ca" ] || { [ -s "$f" ] && ca=$f; }
done
build=("$engine" build --pull=never --build-arg "BASE=$base" -t "$image" -f Dockerfile)
case "$engine" in *podman) build+=(--isolation=chroot) ;; esac
[ -n "$ca" ] && build+=(--secret "id=ca,src=$ca")
echo "+ ${build[*]} ."
"${build[@]}" .

"$python" tools/image/smoke.py "$image" --engine "$engine"

size() { "$engine" image inspect --format '{{.Size}}' "$1"; }
gz() { "$engine" save "$1" 2>/dev/null | gzip -6 -c | wc -c; }
b=$(size "$base"); i=$(size "$image"); bz=$(gz "$base"); iz=$(gz "$image")
awk -v base="$base" -v image="$image" -v b="$b" -v i="$i" -v bz="$bz" -v iz="$iz" 'BEGIN {
  printf "| image | uncompressed | compressed (gzip of the saved image) |\n|---|---:|---:|\n";
  printf "| %s (base) | %.1f MB | %.1f MB |\n", base, b/1e6, bz/1e6;
  printf "| %s | %.1f MB (%.2fx the base) | %.1f MB (%.2fx) |\n", image, i/1e6, i/b, iz/1e6, iz/bz }'
