"""`make edge-nginx`: what nginx in front fixes and what it costs, per mode: slow clients to
the gateway bare and through nginx, then the same ordinary request through each, closed loop
(throughput; nginx's CPU per request, its processes' and its cgroup's, over its own request
count: docker/nginx/cost.sh) and open loop at a light rate (the hop's latency).

Time (2 cores, warm images): ~2.5 min a mode, ~5 min.
"""

from __future__ import annotations

from .settings import words
from .stack import Cell, loadgen
from .streams import SLOWCLIENTS

HELP = "nginx in front of the gateway vs bare: slow clients, latency and CPU per request (~5 min)"
MODES = ("wsgi", "asgi")
COST = "-c 10 -d 5s --warmup 1s"
LATENCY = "--rate 50 -d 5s --warmup 1s"
URL = "/api/aggregated/?n=1&delay=0&target=async"
THROUGH_NGINX = ("-e", "LOADGEN_GATEWAY_URL=http://edge:8080")


def cells() -> list[Cell]:
    slow = words("SLOWCLIENTS_ARGS", SLOWCLIENTS)
    loads = {"closed": words("EDGE_COST_ARGS", COST), "open": words("EDGE_LATENCY_ARGS", LATENCY)}
    found = []
    for mode in words("EDGE_MODES", " ".join(MODES)):
        runs = [loadgen("slowclients", *slow), loadgen("slowclients", *slow, options=THROUGH_NGINX)]
        for loop, args in loads.items():
            for where, service, base in (
                ("gateway bare", "", "http://gateway:8000"),
                ("through nginx", "edge", "http://edge:8080"),
            ):
                cost = ("docker/nginx/cost.sh", f"{mode}, {loop} loop, {where}", service)
                runs.append(loadgen("run", *args, base + URL, wrapper=cost))
        found.append(Cell({"SERVER_MODE": mode, "EDGE": "nginx"}, tuple(runs), label=mode))
    return found
