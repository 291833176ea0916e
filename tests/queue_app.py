"""A server of known capacity: one request at a time, each holding the server for a fixed
service time (QUEUE_SERVICE_TIME, 10 ms by default), so it serves at most 1 / service time
requests a second whatever the machine, and past that its queue grows without end.

Raw ASGI under uvicorn, one event loop, no Django: the capacity tests search it knowing the
answer from queueing alone. /stats says how long requests really held it (a sleep of d
takes d or more), /healthz answers at once (it queues behind nobody).
"""

import asyncio
import json
import os
import time

SERVICE = min(max(float(os.environ.get("QUEUE_SERVICE_TIME", "0.01")), 0.001), 1.0)
_lock = None
_served = 0
_held = 0.0


async def _respond(send, status: int, body: dict) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": data})


async def app(scope, receive, send):
    global _lock, _served, _held
    if scope["type"] != "http":
        return
    if scope["path"] == "/healthz":
        # Shaped as the services' /healthz, so results and reports read it as theirs.
        server = {"server": "uvicorn", "workers": 1, "threads": 1}
        return await _respond(send, 200, {"status": "ok", "server_mode": "queue", "server": server})
    if scope["path"] == "/stats":
        return await _respond(send, 200, {"served": _served, "held": _held, "service_time": SERVICE})
    if scope["path"] == "/fail":
        # A URL that errors at every rate, for what a search of one says.
        return await _respond(send, 503, {"error": "unavailable"})
    _lock = _lock or asyncio.Lock()
    async with _lock:
        began = time.perf_counter()
        await asyncio.sleep(SERVICE)
        _held += time.perf_counter() - began
        _served += 1
    await _respond(send, 200, {"message": "served"})
