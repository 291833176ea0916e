#!/usr/bin/env bash
# Prints the name of a base image that exists in the local engine, making one if it must.
#
# Order: the wanted image (an official python image) if it is already here; else a local
# Debian base made earlier; else pull the wanted image; else build the local base from
# Debian packages. The pull is tried after the local base on purpose: on a machine with no
# registry a pull can only fail, and on some networks it fails slowly.
#
# Everything but the final image name goes to stderr, so `$(docker/base-image.sh)` works.
#
# `docker/base-image.sh [SUITE]`: the Debian suite, and with it the Python, of the lab image
# (`make build DJANGO=3.1` runs Django 3.1 on bullseye's 3.9). BASE_IMAGE / LOCAL_BASE_IMAGE /
# DEBIAN_SUITE still win, for the other images made here (postgres, nginx, netem).
set -euo pipefail

suite=${DEBIAN_SUITE:-${1:-bookworm}}
# Each suite's Python, as Debian packages it and as the official image of that Python is named.
case $suite in
    bullseye) python=3.9 ;;
    bookworm) python=3.11 ;;
    trixie) python=3.13 ;;
    *) python= ;;
esac
if [ -z "${BASE_IMAGE:-}" ] && [ -z "$python" ]; then
    echo "base-image: no Python known for Debian suite '$suite' (bullseye, bookworm or trixie)" >&2
    exit 2
fi
want=${BASE_IMAGE:-python:$python-slim-$suite}
local_base=${LOCAL_BASE_IMAGE:-asynclab-base:$suite}
# What the Debian base holds (make netem builds another one, with iproute2 for tc).
packages=${BASE_PACKAGES:-python3,python3-venv,ca-certificates}
# One more mmdebstrap --customize-hook, for what a package's postinst leaves behind that the
# image does not want (make postgres-image drops the cluster Debian's postgresql creates).
extra_hooks=()
if [ -n "${BASE_CUSTOMIZE_HOOK:-}" ]; then extra_hooks+=(--customize-hook="$BASE_CUSTOMIZE_HOOK"); fi
workdir=${BASE_WORKDIR:-build/base}

log() { echo "base-image: $*" >&2; }
have() { docker image inspect "$1" >/dev/null 2>&1; }

if have "$want"; then echo "$want"; exit 0; fi
if have "$local_base"; then echo "$local_base"; exit 0; fi
# A base only ever made here (BASE_IMAGE = LOCAL_BASE_IMAGE: the interpreter's build and
# runtime bases, docker/python/) is in no registry: never ask one for it.
if [ "$want" != "$local_base" ] && timeout "${PULL_TIMEOUT:-120}" docker pull "$want" >&2; then echo "$want"; exit 0; fi

if [ "$want" = "$local_base" ]; then log "building $local_base from Debian $suite packages"
else log "cannot pull $want; building $local_base from Debian $suite packages"; fi
if [ "$(id -u)" != 0 ]; then
    log "building a base from Debian packages needs root (mmdebstrap); run as root or make $want pullable"
    exit 1
fi
command -v apt-get >/dev/null || { log "no apt-get: this host cannot build a Debian base"; exit 1; }

# The mirror comes from the host's own apt configuration; it is never written down here.
site() { apt-get indextargets --no-release-info --format '$(SITE)' "Release: $1" 'Identifier: Packages' | head -n1; }
if [ -z "$(site "$suite")" ]; then apt-get update >&2; fi
mirror=$(site "$suite")
security=$(site "$suite-security")
# A suite the host does not use itself (bullseye, trixie on a bookworm host) comes from the
# same mirrors the host's own suite does: one Debian mirror carries every suite.
host_suite=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
if [ -z "$mirror" ] && [ -n "$host_suite" ]; then
    mirror=$(site "$host_suite")
    security=$(site "$host_suite-security")
    [ -n "$mirror" ] && log "the host lists no '$suite' mirror: using its $host_suite mirror $mirror"
fi
[ -n "$mirror" ] || { log "the host's apt sources list no '$suite' mirror"; exit 1; }

if ! command -v mmdebstrap >/dev/null; then
    log "installing mmdebstrap"
    apt-get install -y --no-install-recommends mmdebstrap >&2 || { apt-get update >&2 && apt-get install -y --no-install-recommends mmdebstrap >&2; }
fi

sources=("deb $mirror $suite main" "deb $mirror $suite-updates main")
[ -n "$security" ] && sources+=("deb $security $suite-security main")

mkdir -p "$workdir"
tarball="$workdir/rootfs.tar"
start=$(date +%s)
# dpkg path-excludes keep docs, man pages and locales out instead of deleting them later
# (copyright files stay); apt lists and caches are dropped because the image never runs apt.
# Check-Valid-Until is off because the host's mirror may be a frozen snapshot.
mmdebstrap --variant=minbase --mode=root \
    --include="$packages" \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*.log' \
    --customize-hook=': > "$1"/etc/resolv.conf; : > "$1"/etc/hostname' \
    "${extra_hooks[@]}" \
    "$suite" "$tarball" "${sources[@]}" >&2

docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["python3"]' \
    "$tarball" "$local_base" >&2
rm -f "$tarball"
log "built $local_base in $(( $(date +%s) - start )) s ($(docker image inspect -f '{{.Size}}' "$local_base" | awk '{printf "%d MB", $1/1e6}'))"
echo "$local_base"
