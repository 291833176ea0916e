"""One httpx client kept and reused: an AsyncClient per event loop, one Client (thread-safe)
per process. httpx's default limits (100 connections, a pool wait that counts against
the timeout) are kept: under heavy fan-out one shared AsyncClient is known to stall in
httpcore's pool bookkeeping (encode/httpx#3215), and the lab shows it rather than hide it."""

import asyncio
import threading
import weakref
from contextlib import asynccontextmanager, contextmanager

import httpx

from ..calls import get, get_async
from .loops import long_lived
from .tls import context as tls

NAME = "shared"
DESCRIPTION = "one httpx.AsyncClient per event loop / one httpx.Client per process"
SYNC = True

_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]" = weakref.WeakKeyDictionary()
_sync: httpx.Client | None = None
_lock = threading.Lock()


@asynccontextmanager
async def session():
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = httpx.AsyncClient(verify=tls())
    try:
        yield lambda call, timeout: get_async(client, call, timeout)
    finally:
        if not long_lived():
            del _clients[loop]
            await client.aclose()


@contextmanager
def sync_session():
    global _sync
    with _lock:
        if _sync is None:
            _sync = httpx.Client(verify=tls())
    client = _sync
    yield lambda call, timeout: get(call, timeout, client=client)
