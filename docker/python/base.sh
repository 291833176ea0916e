#!/usr/bin/env bash
# Prints the name of the interpreter base of PYTHON=$1 (3.14 or 3.14t), building it first if
# it is not in the local engine: CPython from Debian's python3.14 orig tarball
# (docker/python/source.txt, fetched on the host by interpreters/source.py), compiled by
# docker/python/Dockerfile with no network, in a build base and onto a runtime base that
# docker/base-image.sh makes from Debian trixie packages. Everything but the name goes to
# stderr; the build's log is build/python-build-$1.log, its time and size the last line.
set -euo pipefail

variant=${1:-}
case $variant in
    3.14) gil=enabled ;;
    3.14t) gil=disabled ;;
    *) echo "python/base.sh: PYTHON=$variant: choose one of 3.14 3.14t" >&2; exit 2 ;;
esac
image=${PYTHON_BASE_NAME:-asynclab-python}:$variant
if docker image inspect "$image" >/dev/null 2>&1; then echo "$image"; exit 0; fi

# The compiler and the headers of what the lab imports (ssl, sqlite3, ctypes, decimal,
# zlib/bz2/lzma/zstd, uuid, expat); no readline, curses, dbm or tk: the services use none.
build_packages=build-essential,pkg-config,libssl-dev,libffi-dev,zlib1g-dev,libbz2-dev,liblzma-dev,libzstd-dev,libsqlite3-dev,uuid-dev,libmpdec-dev,libexpat1-dev
# Their libraries; libpq5 for psycopg, which has no free-threaded binary wheel: both
# interpreters run its pure-Python form on Debian's libpq (requirements/python-3.14.txt).
runtime_packages=ca-certificates,netbase,tzdata,libssl3t64,libffi8,zlib1g,libbz2-1.0,liblzma5,libzstd1,libsqlite3-0,libuuid1,libmpdec4,libexpat1,libpq5
build_base=$(BASE_IMAGE=asynclab-python-build:trixie LOCAL_BASE_IMAGE=asynclab-python-build:trixie \
    BASE_PACKAGES=$build_packages BASE_WORKDIR=build/base-python-build docker/base-image.sh trixie)
runtime_base=$(BASE_IMAGE=asynclab-python-runtime:trixie LOCAL_BASE_IMAGE=asynclab-python-runtime:trixie \
    BASE_PACKAGES=$runtime_packages BASE_WORKDIR=build/base-python-runtime docker/base-image.sh trixie)
source=$("${HOST_PYTHON:-python3}" -m interpreters.source build/python)

log=build/python-build-$variant.log
echo "python/base.sh: building $image from $(basename "$source") (GIL $gil), log in $log; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
start=$(date +%s)
docker build --network none --build-arg BUILD_IMAGE="$build_base" --build-arg RUNTIME_IMAGE="$runtime_base" \
    --build-arg SOURCE="$(basename "$source")" --build-arg GIL="$gil" \
    -f docker/python/Dockerfile -t "$image" "$(dirname "$source")" > "$log" 2>&1 \
    || { tail -n 40 "$log" >&2; echo "python/base.sh: docker build failed: full log in $log" >&2; exit 1; }
echo "python/base.sh: built $image in $(( $(date +%s) - start )) s ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%d MB", $1/1e6}')); load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "$image"
