"""`make pinning`: does pinning each service to its own core cut the spread? The same asgi
cells, 5 repeats interleaved, unpinned and then with the backend on CPU 0 and the gateway on
CPU 1 (loadgen free); each sweep table prints every cell's spread and what bounded it.

Time (2 cores, warm images): ~6 min.
"""

from __future__ import annotations

from .settings import words
from .stack import Cell

HELP = "spread with and without pinning each service to a core (asgi; ~6 min)"
SWEEP = "--strategies gather --clients article,auto --levels 50 --repeat 5 --duration 5s --warmup 1s"
PINS = {"unpinned": {}, "pinned": {"BACKEND_CPUSET": "0", "GATEWAY_CPUSET": "1"}}


def cells() -> list[Cell]:
    sweep = words("PIN_SWEEP", SWEEP)
    return [Cell({"SERVER_MODE": "asgi", **pin}, (("sweep", *sweep),), label=name) for name, pin in PINS.items()]
