"""`make chat-5k`: the issue's chat target, 5,000 members in 50 rooms of 100 on ONE uvicorn
worker with the in-memory layer, one message per room a second (50 senders at 50 messages a
second in all: 5,000 deliveries a second), for 20 s; then the same workload with the Redis
layer across two workers, for its CPU per delivery beside the in-memory layer's. Targets
(docs/chat.md): at least 99.9 % delivered, p99 delivery latency under 1 s, with threads and
RSS per member. loadgen runs two processes: one process's event loop cannot read 5,000
deliveries a second and time them (its own CPU is in the result).

Time (2 cores, warm images): its reference run's, in README's table (docs/reference/chat-5k/).
"""

from __future__ import annotations

from .settings import words
from .stack import Cell

HELP = "one uvicorn worker: 5,000 members in 50 rooms, 5,000 deliveries a second; then Redis on 2 workers (~2 min)"
ARGS = "--members 5000 --rooms 50 --senders 50 --message-rate 50 --connect-rate 500 --duration 20s --workers 2"
# (layer, server workers): the target's configuration, then the Redis layer's across workers.
CONFIGURATIONS = (("memory", "1"), ("redis", "2"))


def cells() -> list[Cell]:
    args = words("CHAT_5K_ARGS", ARGS)
    return [
        Cell(
            {"SERVER_MODE": "asgi", "CHANNEL_LAYER": layer, "WORKERS": workers},
            (("chat", *args),),
            label=f"asgi, {layer}, {workers} worker{'s' if workers != '1' else ''}",
        )
        for layer, workers in CONFIGURATIONS
    ]
