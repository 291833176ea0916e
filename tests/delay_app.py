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
    await asyncio.sleep(delay)
    body = b'{"message": "Hello World!"}'
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
