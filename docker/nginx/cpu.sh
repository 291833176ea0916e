#!/usr/bin/env bash
# CPU nanoseconds a container has used so far, from its cgroup (v1 cpuacct, or v2 cpu.stat):
# make edge-nginx reads nginx's before and after a run, since nginx has no /telemetry.
set -euo pipefail
id=$(docker inspect -f '{{.Id}}' "$1")
for file in /sys/fs/cgroup/cpuacct/docker/"$id"/cpuacct.usage /sys/fs/cgroup/cpu,cpuacct/docker/"$id"/cpuacct.usage; do
    if [ -r "$file" ]; then cat "$file"; exit 0; fi
done
for dir in /sys/fs/cgroup/system.slice/docker-"$id".scope /sys/fs/cgroup/docker/"$id"; do
    if [ -r "$dir/cpu.stat" ]; then awk '/^usage_usec/ {print $2 * 1000}' "$dir/cpu.stat"; exit 0; fi
done
echo "cpu.sh: no cgroup CPU figures found for $1" >&2
echo 0
