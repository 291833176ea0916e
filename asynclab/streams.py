"""Server-sent event streams: the wire format both services write, and the gauge of open
streams each process keeps.

A stream is a long-lived response. The gauge is how a test (or loadgen) sees that a client
that went away really ended its generator: `open` counts generators that started and have
not finished, whichever way they finish (completed, or closed early because the client
left). Per process: with WORKERS > 1 each worker answers for itself (its `pid` says which).

Under ASGI a disconnect reaches an async generator as CancelledError (Django 5 listens for
http.disconnect while it sends); under WSGI a sync generator is closed (GeneratorExit) by
the server when a write to the gone client fails, so at its next event.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

from django.http import StreamingHttpResponse

from .http import ApiResponse
from .query import endpoint

CONTENT_TYPE = "text/event-stream"


class Gauge:
    """Streams of this process: open now, the most open at once, and how the others ended."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # sync generators run on server or asgiref threads
        self.open = self.peak = self.opened = self.completed = self.disconnected = 0

    def enter(self) -> None:
        with self._lock:
            self.open += 1
            self.opened += 1
            self.peak = max(self.peak, self.open)

    def leave(self, completed: bool) -> None:
        with self._lock:
            self.open -= 1
            if completed:
                self.completed += 1
            else:
                self.disconnected += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {
                "pid": os.getpid(),
                "open": self.open,
                "open_peak": self.peak,
                "opened": self.opened,
                "completed": self.completed,
                "disconnected": self.disconnected,
            }


GAUGE = Gauge()


def event(name: str, seq: int, data: dict[str, Any]) -> bytes:
    """One server-sent event: its sequence number as the id, and JSON data that carries the
    number again and the wall-clock time it was written (`sent`), so a client on the same
    clock can measure how late it arrived."""
    body = json.dumps({"seq": seq, **data, "sent": time.time()}, separators=(",", ":"))
    return f"id: {seq}\nevent: {name}\ndata: {body}\n\n".encode()


def response(content) -> StreamingHttpResponse:
    """A stream of events. `X-Accel-Buffering: no` tells a buffering proxy in front (nginx,
    EDGE=nginx) to pass this response on as it comes instead of holding it: buffering is
    what protects the server from slow readers, and what an event stream cannot have."""
    streamed = StreamingHttpResponse(content, content_type=CONTENT_TYPE)
    streamed["Cache-Control"] = "no-cache"
    streamed["X-Accel-Buffering"] = "no"
    return streamed


@endpoint(lambda query: None)
def gauge(request, params):
    """GET /streams: this process's gauge (both services route it)."""
    return ApiResponse(GAUGE.snapshot())
