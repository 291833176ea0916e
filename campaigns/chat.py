"""`make chat`: chat rooms over WebSocket (docs/chat.md) in every ASGI mode, with each
channel layer, on one and two server workers: `loadgen chat` with the same workload in every
cell. daphne runs one process (it has no WORKERS knob), so it has no two-worker cells. With
the in-memory layer and two workers a room is split between the workers: the members on the
other worker lose the messages, which the result shows as lost; the Redis layer is the one
that spans workers.

Time (2 cores, warm images): its reference run's, in README's table (docs/reference/chat/).
"""

from __future__ import annotations

from asynclab.servers import SERVERS

from .settings import words
from .stack import Cell, loadgen

HELP = "chat rooms in every ASGI mode x CHANNEL_LAYER memory|redis x 1|2 workers, then the report (~11 min)"
MODES = ("asgi", "uvicorn-worker", "daphne", "hypercorn", "granian")
LAYERS = ("memory", "redis")
WORKERS = ("1", "2")
# 1,000 members in 10 rooms of 100; 10 senders at 1 message a second each: 1,000 deliveries a second.
ARGS = "--members 1000 --rooms 10 --senders 10 --message-rate 10 --connect-rate 200 --duration 10s"


def cells() -> list[Cell]:
    args = words("CHAT_ARGS", ARGS)
    found = []
    for mode in words("CHAT_MODES", " ".join(MODES)):
        for layer in words("CHAT_LAYERS", " ".join(LAYERS)):
            # A mode with no WORKERS knob refuses to start when it is set: one process, unset.
            counts = words("CHAT_WORKERS", " ".join(WORKERS)) if SERVERS[mode].WORKERS else (None,)
            for workers in counts:
                knobs = {"SERVER_MODE": mode, "CHANNEL_LAYER": layer, **({"WORKERS": workers} if workers else {})}
                label = f"{mode}, {layer}, {workers or 1} worker{'s' if workers not in (None, '1') else ''}"
                found.append(Cell(knobs, (loadgen("chat", *args),), label=label))
    return found
