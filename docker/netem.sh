#!/bin/sh
# Adds latency to everything leaving the network namespace it runs in (the backend's):
# `tc qdisc ... netem delay $NETEM_DELAY $NETEM_JITTER`, removed again when stopped.
set -u
dev=${NETEM_DEVICE:-eth0}
if ! out=$(tc qdisc replace dev "$dev" root netem delay "${NETEM_DELAY:-50ms}" ${NETEM_JITTER:-} 2>&1); then
    # tc says "Specified qdisc kind is unknown" when the host kernel has no sch_netem.
    hint=""
    case "$out" in *unknown*) hint=" (the host kernel has no netem: CONFIG_NET_SCH_NETEM / modprobe sch_netem)";; esac
    echo "{\"event\": \"netem\", \"error\": \"tc failed: $out$hint\"}"
    exit 3
fi
echo "{\"event\": \"netem\", \"device\": \"$dev\", \"qdisc\": \"$(tc qdisc show dev "$dev" | head -n1)\"}"
trap 'tc qdisc del dev "$dev" root 2>/dev/null; echo "{\"event\": \"netem\", \"removed\": true}"; exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
