"""`make streams`: long-lived connections (docs/streams.md). Per mode: `loadgen streams` (the
backend's async and sync event streams and the gateway's, 10/100/1000 at once; 10/100 in the
modes whose every request holds a server thread, where each stream past the threads waits
and each one given up on still costs a thread a whole stream) and `loadgen slowclients` (40
and 200 slow connections, two shapes). A gateway stream reserves its calls up front: the
call budget is raised so the streams, not it, are measured.

Time (2 cores, warm images): ~3 min a mode, ~6 min.
"""

from __future__ import annotations

from asynclab.servers import SERVERS

from .settings import knob, words
from .stack import Cell, loadgen

HELP = "streams and slow clients in each of STREAMS_MODES (wsgi asgi), then the report (~6 min)"
MODES = ("wsgi", "asgi")
LEVELS = "10,100,1000"
# A mode whose requests each hold a server thread stops where its threads do.
LEVELS_THREADED = "10,100"
ARGS = "--interval 0.5s --hold 3s --ramp 2s"
SLOWCLIENTS = "--levels 40,200 --hold 8s"


def edge_options() -> tuple[str, ...]:
    """With EDGE=nginx in front, loadgen loads the gateway through it."""
    return ("-e", "LOADGEN_GATEWAY_URL=http://edge:8080") if knob("EDGE", "none") == "nginx" else ()


def cells() -> list[Cell]:
    args, slow = words("STREAMS_ARGS", ARGS), words("SLOWCLIENTS_ARGS", SLOWCLIENTS)
    found = []
    for mode in words("STREAMS_MODES", " ".join(MODES)):
        threaded = SERVERS[mode].THREAD_PER_REQUEST
        levels = knob("STREAMS_LEVELS_THREADED", LEVELS_THREADED) if threaded else knob("STREAMS_LEVELS", LEVELS)
        runs = (
            loadgen("streams", "--levels", levels, *args, options=edge_options()),
            loadgen("slowclients", *slow, options=edge_options()),
        )
        found.append(Cell({"SERVER_MODE": mode, "GATEWAY_MAX_CALLS": "100000"}, runs, label=mode))
    return found
