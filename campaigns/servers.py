"""`make servers`, the server matrix: every SERVER_MODE in turn serves both services, and
loadgen runs the same workloads on each (loadgen/experiments/servers.py); the report ranks
them. The modes are the server registry's (asynclab/servers), in its order.

Time (2 cores, warm images): ~70 s a mode (a cell costs ~7 s whatever its window), ~12 min.
"""

from __future__ import annotations

from asynclab.servers import SERVERS

from .settings import words
from .stack import Cell

HELP = "the server matrix: the same workloads on every SERVER_MODE, ranked in the report (~12 min)"
ARGS = "--level 20 --repeat 3 --duration 2s --warmup 0.5s"


def cells() -> list[Cell]:
    args = words("SERVERS_ARGS", ARGS)
    return [
        Cell({"SERVER_MODE": mode}, (("servers", *args),), label=mode)
        for mode in words("SERVERS_MODES", " ".join(SERVERS))
    ]
