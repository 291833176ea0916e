#!/usr/bin/env bash
# Wait until every named service's container reports healthy (what `up --wait` does in
# compose v2, which docker-compose 1.29 lacks). Fails with the service's last log lines.
#   usage: wait-healthy.sh COMPOSE-COMMAND... -- SERVICE...
set -euo pipefail
compose=()
while [ "$1" != "--" ]; do compose+=("$1"); shift; done
shift
deadline=$(( $(date +%s) + ${WAIT_TIMEOUT:-120} ))
for service in "$@"; do
    while :; do
        id=$("${compose[@]}" ps -q "$service" 2>/dev/null || true)
        state=$( [ -n "$id" ] && docker inspect -f '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id" 2>/dev/null || echo "missing/")
        case "$state" in
            */healthy) break ;;
            exited/*|dead/*|*/unhealthy|missing/)
                echo "$service is $state:" >&2; "${compose[@]}" logs --tail=30 "$service" >&2; exit 1 ;;
        esac
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "$service not healthy after ${WAIT_TIMEOUT:-120} s ($state)" >&2
            "${compose[@]}" logs --tail=30 "$service" >&2; exit 1
        fi
        sleep 0.5
    done
done
echo "healthy: $*"
