#!/bin/sh
# Adds latency to everything leaving the network namespace it runs in (the backend's):
# `tc qdisc ... netem delay $NETEM_DELAY $NETEM_JITTER`, removed again when stopped.
set -eu
dev=${NETEM_DEVICE:-eth0}
tc qdisc replace dev "$dev" root netem delay "${NETEM_DELAY:-50ms}" ${NETEM_JITTER:-}
echo "{\"event\": \"netem\", \"device\": \"$dev\", \"qdisc\": \"$(tc qdisc show dev "$dev" | head -n1)\"}"
trap 'tc qdisc del dev "$dev" root 2>/dev/null; echo "{\"event\": \"netem\", \"removed\": true}"; exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
