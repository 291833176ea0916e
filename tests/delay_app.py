"""A server with a known delay and nothing else: raw ASGI under uvicorn, no Django.

loadgen's accuracy tests use it so that what they measure is loadgen, not the lab's own
service overhead (which the lab measures elsewhere).
"""

import asyncio
from urllib.parse import parse_qs


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    query = parse_qs(scope["query_string"].decode())
    delay = min(max(float(query.get("delay", ["0"])[0]), 0.0), 30.0)
    # ?status=503: the same body with another status, for what loadgen counts as an error.
    status = min(max(int(query.get("status", ["200"])[0]), 200), 599)
    await asyncio.sleep(delay)
    body = b'{"message": "Hello World!"}'
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
