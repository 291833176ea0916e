"""One httpx client kept and reused: an AsyncClient per event loop, one Client (thread-safe)
per process. httpx's default limits (100 connections, a pool wait that counts against
the timeout) are kept: under heavy fan-out one shared AsyncClient is known to stall in
httpcore's pool bookkeeping (encode/httpx#3215), and the lab shows it rather than hide it."""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager, contextmanager

import httpx

from ..calls import get, get_async
from .loops import PerLoop
from .tls import context as tls

NAME = "shared"
SYNC = True

_clients = PerLoop(lambda: httpx.AsyncClient(verify=tls()), lambda client: client.aclose())
_sync: httpx.Client | None = None
_lock = threading.Lock()


@asynccontextmanager
async def session():
    async with _clients.use() as client:
        yield lambda call, timeout: get_async(client, call, timeout)


@contextmanager
def sync_session():
    global _sync
    with _lock:
        if _sync is None:
            _sync = httpx.Client(verify=tls())
    client = _sync
    yield lambda call, timeout: get(call, timeout, client=client)
