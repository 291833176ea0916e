#!/usr/bin/env bash
# CPU nanoseconds nginx's own processes (the container's PID 1, the master, and its workers)
# have used so far, read on the host from /proc/<pid>/schedstat. Beside docker/nginx/cpu.sh,
# which reads the whole container's cgroup: that one also counts the healthcheck's bash and
# every `docker exec` (docker/nginx/requests.sh), a few ms each, which this one leaves out.
set -euo pipefail
master=$(docker inspect -f '{{.State.Pid}}' "$1")
total=0
for pid in "$master" $(ps -o pid= --ppid "$master"); do
    [ -r "/proc/$pid/schedstat" ] || continue
    read -r ns _ < "/proc/$pid/schedstat"
    total=$(( total + ns ))
done
echo "$total"
