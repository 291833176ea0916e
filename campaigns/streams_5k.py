"""`make streams-5k`: 5,000 async streams held at once by ONE uvicorn worker (asgi,
WORKERS=1), events flowing. The ramp decides it on 2 shared cores: opening a stream
(request, first event, end) costs the worker ~2-3 ms of CPU, so 5,000 over 5 s (1,000/s)
saturates it and the last streams open after the first have ended; over 20 s (250/s) it
stays about half a core busy. The cell starts a fresh backend, so RSS per stream is
measured from a process that has not grown yet. STREAMS_5K_LEAN=true (LEAN: no
per-request thread, half the RSS and less CPU per stream) by default; false is Django as
shipped (a thread per open stream with the backend's SQLite).

Time: ~1.5 min (up ~20 s, the cell 2 x ramp + hold + 5 s = 55 s, down).
"""

from __future__ import annotations

from .settings import knob, words
from .stack import Cell

HELP = "asgi, one uvicorn worker: 5,000 concurrent streams, threads/RSS per stream, event lag (~1.5 min)"
ARGS = "--views async --levels 5000 --ramp 20s --hold 10s --interval 1s"


def cells() -> list[Cell]:
    knobs = {"SERVER_MODE": "asgi", "WORKERS": "1", "LEAN": knob("STREAMS_5K_LEAN", "true")}
    return [Cell(knobs, (("streams", *words("STREAMS_5K_ARGS", ARGS)),), label="asgi, one worker")]
