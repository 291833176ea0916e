"""The cheapest HTTP endpoint we can serve: a raw ASGI app under uvicorn, no Django.

Only for bench/: it measures the load tools' own ceiling, which a Django endpoint (a few
hundred microseconds of CPU per request, on the same two cores) would hide.
"""

BODY = b'{"message": "Hello World!"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
