#!/usr/bin/env bash
# Build a slim Python base image from Debian packages with debootstrap, for machines that cannot pull
# python:3.12-slim from a registry. Usage: tools/image/make-base.sh [IMAGE_NAME] (default
# localhost/aqe-python-base:bookworm). Needs root, debootstrap and podman (or docker); apt's mirror is
# $MIRROR (default http://deb.debian.org/debian).
#
# What it holds: Debian's minimal base, python3 (3.11 on bookworm) with its standard library and the
# CA certificates - what python:3.X-slim holds - and, like the slim images, no documentation, man
# pages, locales, apt lists or caches. The Dockerfile's builder stage adds the compiler and headers it
# needs with apt; the final stage adds git (merge-base baselines) and the package.
set -euo pipefail
name=${1:-localhost/aqe-python-base:bookworm}
suite=${SUITE:-bookworm}
mirror=${MIRROR:-http://deb.debian.org/debian}
engine=${ENGINE:-$(command -v podman || command -v docker)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"

debootstrap --variant=minbase --include=python3,ca-certificates "$suite" "$root" "$mirror"
cat > "$root/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb http://deb.debian.org/debian-security $suite-security main
SOURCES
# apt in a container: no recommends, no docs (the same dpkg excludes the slim images use)
cat > "$root/etc/apt/apt.conf.d/90slim" <<'CONF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
CONF
cat > "$root/etc/dpkg/dpkg.cfg.d/90slim" <<'CONF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
CONF
chroot "$root" apt-get clean
find "$root/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete 2>/dev/null || true
rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* "$root"/usr/share/lintian \
       "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old "$root"/var/log/* \
       "$root"/tmp/* "$root"/root/.cache
find "$root/usr/lib" -name __pycache__ -type d -prune -exec rm -rf {} +
tar -C "$root" --numeric-owner -c . | "$engine" import \
  --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' - "$name" >/dev/null
echo "$name"
