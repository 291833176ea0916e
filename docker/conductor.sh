#!/usr/bin/env bash
# The conductor of a swarm run: `python -m loadgen.entry ARGS` in a container of its own on
# this node, joined to the stack's overlay networks (the stack makes them attachable), with
# the results folder mounted as compose mounts it for `docker compose run loadgen`. Its
# measurements run on the stack's loadgen replicas given --replicas N (loadgen/replicas.py),
# which obey only a conductor that holds their secret: the host's LOADGEN_SECRET_FILE, the
# file the stack's secret was made from, mounted read-only where the replicas have theirs.
#   usage: conductor.sh STACK RESULTS_DIR LOADGEN-ARGS...
set -euo pipefail
stack=$1 results=$2
shift 2
mkdir -p "$results"
results=$(cd "$results" && pwd)
secret=${LOADGEN_SECRET_FILE:-./build/loadgen-secret}
[ -s "$secret" ] || { echo "conductor.sh: no loadgen secret in $secret (make secrets writes one)" >&2; exit 2; }
secret=$(cd "$(dirname "$secret")" && pwd)/$(basename "$secret")
id=$(docker create --network "${stack}_edge" --label "asynclab.conductor=$stack" \
    --init --read-only --tmpfs /tmp --cap-drop ALL --cap-add SETUID --cap-add SETGID --cap-add SETPCAP \
    --security-opt no-new-privileges:true --user "${LAB_UID:-0}:${LAB_GID:-0}" \
    --ulimit "nofile=${NOFILE:-20000}:${NOFILE:-20000}" \
    -v "$results:/results" -v "$secret:/run/secrets/loadgen_secret:ro" \
    -e LOADGEN_GATEWAY_URL=http://gateway:8000 -e LOADGEN_BACKEND_URL=http://backend:8000 -e LOADGEN_RESULTS=/results \
    -e LOADGEN_REPLICAS_AT=tasks.loadgen:9100 \
    -e "GIT_COMMIT=${GIT_COMMIT:-}" \
    --entrypoint python "${LAB_IMAGE:-asynclab:latest}" -m loadgen.entry "$@")
trap 'docker rm -f "$id" >/dev/null 2>&1 || true' EXIT
# The backend's network too: loadgen checks it is idle and records its settings.
docker network connect "${stack}_internal" "$id"
docker start --attach "$id"
