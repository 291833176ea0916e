"""The backend's chat knobs (docs/chat.md): WebSocket rooms through Django Channels, served
by the ASGI modes only, and the channel layer that carries their messages."""

from __future__ import annotations

from .knob import BACKEND, Knob

KNOBS: list[Knob] = [
    Knob(
        "CHANNEL_LAYER",
        "memory",
        "Channels' layer for /ws/rooms/: memory = in each worker process (rooms do not span workers), "
        "redis = the redis service (make up CHANNEL_LAYER=redis starts it; rooms span workers) (docs/chat.md)",
        BACKEND,
        ("backend", "make"),
        str.lower,
        choices=("memory", "redis"),
    ),
    Knob(
        "CHAT_CHANNEL_CAPACITY",
        100,
        "messages the layer queues for one member before it drops the next ones (Channels' `capacity`; "
        "its default is 100): what a slow reader costs is bounded by it",
        BACKEND,
        ("backend",),
        low=1,
        high=100_000,
    ),
    Knob(
        "CHAT_MAX_FRAME",
        16384,
        "largest text frame a member may send, in bytes (UTF-8); a larger one closes it with 1009",
        BACKEND,
        ("backend",),
        low=64,
        high=1_048_576,
    ),
    Knob(
        "CHAT_MEMBER_RATE",
        50.0,
        "frames per second one member may send (a burst of as many); a member sending faster is closed with 1008",
        BACKEND,
        ("backend",),
        low=0.1,
        high=10_000,
    ),
    Knob(
        "CHAT_ROOM_MEMBERS",
        1000,
        "members one worker process admits to one room; the next is refused at the handshake (403)",
        BACKEND,
        ("backend",),
        low=1,
        high=100_000,
    ),
    Knob(
        "CHAT_MAX_MEMBERS",
        10000,
        "WebSocket members one worker process holds at once; the next is refused at the handshake (403)",
        BACKEND,
        ("backend",),
        low=1,
        high=1_000_000,
    ),
]
