#!/usr/bin/env bash
# What one `loadgen run` through (or beside) nginx cost: `docker/nginx/cost.sh LABEL SERVICE
# COMMAND...` runs COMMAND (a `compose run loadgen run ...`), prints its throughput, latency,
# loadgen and machine lines, and, when SERVICE (the edge's compose service, found with
# $COMPOSE, which campaigns/stack.py sets) is not empty, nginx's
# CPU over the run divided by the requests nginx handled in it (stub_status,
# docker/nginx/requests.sh): warm-up included on both sides, so the division is of like by
# like. The CPU twice: nginx's own processes (docker/nginx/procs-cpu.sh) and its container's
# cgroup (docker/nginx/cpu.sh), which also counts the healthcheck's processes. make edge-nginx calls it for the gateway
# bare and behind nginx (campaigns/edge_nginx.py).
set -euo pipefail
here=$(dirname "$0")
label=$1 edge=
if [ -n "$2" ]; then edge=$($COMPOSE --profile nginx ps -q "$2"); fi
shift 2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# The request count first and last, so its own `docker exec` falls outside the CPU readings.
if [ -n "$edge" ]; then
    req0=$("$here/requests.sh" "$edge"); cpu0=$("$here/cpu.sh" "$edge"); own0=$("$here/procs-cpu.sh" "$edge")
fi
"$@" > "$out" 2>&1 || { cat "$out"; exit 1; }
if [ -n "$edge" ]; then
    cpu1=$("$here/cpu.sh" "$edge"); own1=$("$here/procs-cpu.sh" "$edge"); req1=$("$here/requests.sh" "$edge")
fi
echo "-- $label"
grep -E 'req/s|^latency|^loadgen:|^machine:' "$out" | sed 's/^/   /' || true
if [ -n "$edge" ]; then
    # The second reading is a request too, and so was the first's own.
    served=$(( req1 - req0 - 1 ))
    # nginx's own processes (schedstat), and its whole container (cgroup: the healthcheck too).
    awk -v own=$(( own1 - own0 )) -v cg=$(( cpu1 - cpu0 )) -v n="$served" 'BEGIN {
        if (n > 0) printf "   nginx: %d requests; its processes %.1f ms CPU, %.1f us per request; its container (cgroup) %.1f ms, %.1f us per request\n", n, own / 1e6, own / 1e3 / n, cg / 1e6, cg / 1e3 / n
        else print "   nginx: no requests counted" }'
fi
