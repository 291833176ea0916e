#!/usr/bin/env bash
# Wait until every service of a stack runs all its replicas, each past its healthcheck (a
# Swarm task with a healthcheck counts as running only once healthy). Fails with the
# failing tasks' errors and last log lines.
#   usage: swarm-wait.sh STACK
set -euo pipefail
stack=$1
deadline=$(( $(date +%s) + ${WAIT_TIMEOUT:-150} ))
failures() { docker stack ps "$stack" --filter desired-state=shutdown --format '{{.Error}}' 2>/dev/null | grep -c . || true; }
# Earlier deploys' failed tasks stay in the history: count only new ones.
before=$(failures)
while :; do
    pending=$(docker stack services "$stack" --format '{{.Name}} {{.Replicas}}' | awk '{split($2, r, "/"); if (r[1] != r[2]) print $1 " " $2}')
    [ -z "$pending" ] && break
    # A task that keeps failing will not get healthy by waiting: say why at once.
    failed=$(( $(failures) - before ))
    if [ "${failed:-0}" -ge "${WAIT_FAILURES:-3}" ] || [ "$(date +%s)" -ge "$deadline" ]; then
        echo "swarm-wait: not every task of $stack is healthy ($failed failed tasks):" >&2
        echo "$pending" >&2
        for service in $(echo "$pending" | awk '{print $1}'); do
            docker service ps --no-trunc --format '  {{.Name}} on {{.Node}}: {{.CurrentState}} {{.Error}}' "$service" | head -n 5 >&2
            docker service logs --tail 20 "$service" >&2 2>&1 || true
        done
        exit 1
    fi
    sleep 1
done
docker stack services "$stack" --format '{{.Name}} {{.Replicas}}' | sort | tr '\n' ' ' | sed 's/ $/\n/; s/^/healthy: /'
