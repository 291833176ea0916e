"""The article's async aggregation: one httpx.AsyncClient per request, calls via asyncio.gather."""

import asyncio
import time

import httpx

from ..calls import Call, Outcome, failed, received

NAME = "gather"
MESSAGE = "Hello Async World!"
# The calls overlap: the fan-out waits about as long as its slowest call.
CONCURRENT = True


async def fetch(calls: list[Call], timeout: float) -> list[Outcome]:
    # A client per request, as in the article. Under WSGI Django runs this view in a
    # one-off event loop, so a client kept across requests would be bound to a dead loop.
    async with httpx.AsyncClient(timeout=timeout) as client:
        return list(await asyncio.gather(*(_call(client, call) for call in calls)))


async def _call(client: httpx.AsyncClient, call: Call) -> Outcome:
    start = time.perf_counter()
    try:
        response = await client.get(call.url, params=call.params, headers=call.headers)
    except httpx.HTTPError as exc:
        return failed(call, exc, start)
    return received(call, response, start)
