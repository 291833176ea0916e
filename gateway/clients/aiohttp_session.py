"""One aiohttp.ClientSession per event loop: the lightest async client the lab has
(no per-request client, no TLS set-up per request). Async views only."""

import asyncio
import time
from contextlib import asynccontextmanager

import aiohttp

from asynclab import timing

from ..calls import Outcome, answered
from .loops import PerLoop

NAME = "aiohttp"
SYNC = False

# No connection limit on the session: the gateway's own call budget bounds it.
_sessions = PerLoop(
    lambda: aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)), lambda session: session.close()
)


async def _get(session: aiohttp.ClientSession, call, timeout: float) -> Outcome:
    start = time.perf_counter()
    try:
        async with session.get(
            call.url, params=call.params, headers=call.headers, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as response:
            content = await response.read()
            return answered(call, response.status, response.headers.get(timing.HEADER), content, start)
    # asyncio's own TimeoutError: the builtin's alias only since 3.11, and Django 3.1/3.2
    # run on 3.9, where aiohttp's timeout escaped as a 500 (the article's "timeout" was one).
    except asyncio.TimeoutError:
        kind, detail = "timeout", "TimeoutError"
    except aiohttp.ClientConnectorError as exc:
        kind, detail = "connect", type(exc).__name__
    except aiohttp.ClientError as exc:
        kind, detail = "transport", type(exc).__name__
    return Outcome(call.task_id, time.perf_counter() - start, kind=kind, detail=detail)


@asynccontextmanager
async def session():
    async with _sessions.use() as client:
        yield lambda call, timeout: _get(client, call, timeout)
