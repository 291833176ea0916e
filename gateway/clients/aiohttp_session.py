"""One aiohttp.ClientSession per event loop: the lightest async client the lab has
(no per-request client, no TLS set-up per request). Async views only."""

import asyncio
import time
import weakref
from contextlib import asynccontextmanager

import aiohttp

from asynclab import timing

from ..calls import Outcome, answered
from .loops import long_lived

NAME = "aiohttp"
DESCRIPTION = "one aiohttp.ClientSession per event loop (gather only)"
SYNC = False

_sessions: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession]" = weakref.WeakKeyDictionary()


async def _get(session: aiohttp.ClientSession, call, timeout: float) -> Outcome:
    start = time.perf_counter()
    try:
        async with session.get(call.url, params=call.params, headers=call.headers,
                               timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            content = await response.read()
            return answered(call, response.status, response.headers.get(timing.HEADER), content, start)
    except TimeoutError:
        kind, detail = "timeout", "TimeoutError"
    except aiohttp.ClientConnectorError as exc:
        kind, detail = "connect", type(exc).__name__
    except aiohttp.ClientError as exc:
        kind, detail = "transport", type(exc).__name__
    return Outcome(call.task_id, time.perf_counter() - start, kind=kind, detail=detail)


@asynccontextmanager
async def session():
    loop = asyncio.get_running_loop()
    client = _sessions.get(loop)
    if client is None or client.closed:
        # No connection limit here: the gateway's own call budget bounds it.
        client = _sessions[loop] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    try:
        yield lambda call, timeout: _get(client, call, timeout)
    finally:
        if not long_lived():
            del _sessions[loop]
            await client.close()
