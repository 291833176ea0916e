"""Chat rooms over WebSocket through Django Channels (docs/chat.md): an async consumer at
/ws/rooms/<room>/, routed beside the lab's HTTP application, so every ASGI SERVER_MODE
serves both on one port.

A member joins its room's group on connect; each text frame it sends is parsed
(asynclab/chat.py), stamped with the server's receive time and sent to the group with
group_send, which every member's consumer, the sender's included, writes to its socket.
CHANNEL_LAYER picks the layer: `memory` keeps groups in each worker process (a room does
not span workers), `redis` in the redis service (it does).

Bounded: frame size (CHAT_MAX_FRAME, closed with 1009), frames per second per member
(CHAT_MEMBER_RATE, closed with 1008), members per room and per process (CHAT_ROOM_MEMBERS,
CHAT_MAX_MEMBERS, refused at the handshake), what the layer queues per member
(CHAT_CHANNEL_CAPACITY: past it, Channels drops the member's next messages). A bad frame
gets an error frame and the connection stays open. Under the WSGI modes no WebSocket can be
served: /ws/... answers a 400 JSON naming the ASGI modes instead (`refused`).

Over 250 lines: the consumer is one protocol (handshake checks, frame parsing and its
errors, rate and size limits, the layer's failures) and reads best whole.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http.request import validate_host

from asynclab import chat
from asynclab.http import ApiResponse, json_error
from asynclab.query import endpoint

from . import layerstats

PID = os.getpid()
log = logging.getLogger("asynclab.chat")
ASGI_MODES = ("asgi", "uvicorn-worker", "daphne", "hypercorn", "granian")


class Gauge:
    """This process's members and frames: what the per-process bounds count, and what a
    test or loadgen reads from /chat (each worker answers for itself: its pid says which)."""

    FIELDS = (
        "open",
        "open_peak",
        "joined",
        "refused",
        "frames",
        "broadcasts",
        "deliveries",
        "bad_frames",
        "closed_too_big",
        "closed_rate",
        "layer_full",
        "layer_errors",
    )

    def __init__(self) -> None:
        # Consumers run on the event loop; /chat may be served on an asgiref thread.
        self._lock = threading.Lock()
        self.counts = dict.fromkeys(self.FIELDS, 0)
        self.rooms: dict[str, int] = {}

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counts[name] += n

    def join(self, room: str) -> str | None:
        """Admit a member to `room`, or say why not (the bounds are per process)."""
        with self._lock:
            if self.counts["open"] >= settings.CHAT_MAX_MEMBERS:
                self.counts["refused"] += 1
                return f"this worker holds {settings.CHAT_MAX_MEMBERS} members (CHAT_MAX_MEMBERS)"
            if self.rooms.get(room, 0) >= settings.CHAT_ROOM_MEMBERS:
                self.counts["refused"] += 1
                return f"room {room!r} has {settings.CHAT_ROOM_MEMBERS} members here (CHAT_ROOM_MEMBERS)"
            self.rooms[room] = self.rooms.get(room, 0) + 1
            self.counts["open"] += 1
            self.counts["joined"] += 1
            self.counts["open_peak"] = max(self.counts["open_peak"], self.counts["open"])
            return None

    def leave(self, room: str, joined: bool = True) -> None:
        """A member gone; `joined=False`: one admitted whose join then failed, counted as never joined."""
        with self._lock:
            self.counts["open"] -= 1
            if not joined:
                self.counts["joined"] -= 1
            self.rooms[room] -= 1
            if not self.rooms[room]:
                del self.rooms[room]

    def snapshot(self) -> dict:
        with self._lock:
            return {"pid": PID, "layer": settings.CHANNEL_LAYER, **self.counts, "rooms": len(self.rooms)}


GAUGE = Gauge()


def origin_allowed(scope) -> bool:
    """A browser always sends Origin: it must name a host the service answers to, so no other
    site's page can join a room in its visitor's name. A client that sends none (loadgen, a
    script) is not a browser acting for anyone, and is let in."""
    origins = [value for name, value in scope.get("headers", ()) if name == b"origin"]
    if not origins:
        return True
    host = urlsplit(origins[0].decode("latin-1")).hostname
    return host is not None and validate_host(host, settings.ALLOWED_HOSTS)


class Bucket:
    """A token bucket: `rate` frames a second, a burst of as many."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = max(rate, 1.0)
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(max(self.rate, 1.0), self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def consumer():
    """The consumer class, built on first use: Channels is imported only by the ASGI entry."""
    from channels.generic.websocket import AsyncWebsocketConsumer

    class RoomConsumer(AsyncWebsocketConsumer):
        room: str | None = None

        async def connect(self):
            room = self.scope["url_route"]["kwargs"]["room"]
            # Refused before accept: the server answers the handshake with 403.
            if not chat.valid_room(room) or not origin_allowed(self.scope):
                GAUGE.add("refused")
                await self.close()
                return
            if GAUGE.join(room) is not None:
                await self.close()
                return
            self.bucket = Bucket(settings.CHAT_MEMBER_RATE)
            try:
                await self.channel_layer.group_add(room, self.channel_name)
            # Whatever the layer raises (Redis down: redis-py's own errors, not OSError), the
            # member is refused at the handshake and the worker goes on serving.
            except Exception:
                GAUGE.leave(room, joined=False)
                GAUGE.add("layer_errors")
                log.exception("chat: the channel layer refused a join to %r", room)
                await self.close()
                return
            self.room = room
            await self.accept()

        async def disconnect(self, code):
            if self.room is not None:
                try:
                    await self.channel_layer.group_discard(self.room, self.channel_name)
                # The member is gone either way: a layer that cannot record it (Redis busy or
                # down) is counted, and the group's expiry removes it later.
                except Exception as exc:
                    GAUGE.add("layer_errors")
                    log.warning("chat: the channel layer failed a leave from %r: %r", self.room, exc)
                GAUGE.leave(self.room)
                self.room = None

        async def receive(self, text_data=None, bytes_data=None):
            received = time.time()
            size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
            if size > settings.CHAT_MAX_FRAME:
                GAUGE.add("closed_too_big")
                await self.close(code=chat.TOO_BIG)
                return
            if not self.bucket.take():
                GAUGE.add("closed_rate")
                await self.close(code=chat.POLICY)
                return
            GAUGE.add("frames")
            try:
                if text_data is None:
                    raise chat.BadFrame("binary_frame", "send text frames holding JSON")
                message = chat.parse(text_data)
            except chat.BadFrame as bad:
                GAUGE.add("bad_frames")
                await self.send(text_data=bad.frame())
                return
            try:
                await self.channel_layer.group_send(
                    self.room,
                    {"type": "chat.message", "room": self.room, **message, "received": received, "pid": PID},
                )
            except Exception:
                GAUGE.add("layer_errors")
                log.exception("chat: the channel layer failed a send to %r", self.room)
                unsent = chat.BadFrame("layer_unavailable", "the channel layer failed: the message was not sent")
                await self.send(text_data=unsent.frame())
                return
            GAUGE.add("broadcasts")

        async def chat_message(self, event):
            GAUGE.add("deliveries")
            body = {name: event[name] for name in ("room", "text", "sent", "received", "pid")}
            await self.send(text_data=json.dumps(body, separators=(",", ":")))

    return RoomConsumer


def _counting_layer():
    from channels.exceptions import ChannelFull
    from channels.layers import InMemoryChannelLayer

    class CountingLayer(InMemoryChannelLayer):
        """Channels' in-memory layer, counting the messages it drops for a full channel
        (group_send swallows ChannelFull): a slow reader's losses, seen from the server."""

        async def send(self, channel, message):
            try:
                await super().send(channel, message)
            except ChannelFull:
                GAUGE.add("layer_full")
                raise

    return CountingLayer


def __getattr__(name: str):
    # Channels imports the layer by its dotted path; the class needs channels, imported late.
    if name == "CountingLayer":
        return _counting_layer()
    raise AttributeError(name)


def application(http):
    """`http` (Django's ASGI application) and the rooms beside it, by scope type."""
    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.urls import re_path

    # Any segment reaches the consumer, which refuses a bad name itself (403): a URLRouter
    # with no route for a path raises, and the server would answer 500.
    rooms = URLRouter([re_path(r"^ws/rooms/(?P<room>[^/]*)/$", consumer().as_asgi())])

    async def websocket(scope, receive, send):
        if scope["path"].startswith(chat.PATH) and scope["path"].count("/") == 4:
            return await rooms(scope, receive, send)
        # Any other WebSocket path: refused at the handshake.
        GAUGE.add("refused")
        await receive()  # websocket.connect
        await send({"type": "websocket.close", "code": chat.POLICY})

    return ProtocolTypeRouter({"http": http, "websocket": websocket})


@endpoint(lambda query: None)
def refused(request, params):
    """/ws/... over plain HTTP: under WSGI no WebSocket can be served at all; under ASGI the
    path speaks WebSocket only."""
    mode = settings.SERVER.mode
    if not isinstance(request, ASGIRequest):
        return json_error(
            400,
            "websocket_needs_asgi",
            f"WebSockets need an ASGI SERVER_MODE ({', '.join(ASGI_MODES)}); this service runs "
            f"SERVER_MODE={mode}, a WSGI server, which cannot hold a WebSocket (docs/chat.md)",
            server_mode=mode,
            asgi_modes=list(ASGI_MODES),
        )
    response = json_error(
        426,
        "websocket_only",
        f"{request.path} speaks WebSocket: connect with an Upgrade: websocket handshake (docs/chat.md)",
        server_mode=mode,
    )
    response["Upgrade"] = "websocket"
    return response


@endpoint(lambda query: None)
def gauge(request, params):
    """GET /chat: this process's members and frames, and Redis's counters with its layer."""
    return ApiResponse({**GAUGE.snapshot(), "redis": layerstats.redis()})
