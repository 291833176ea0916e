"""The article's clients: an httpx.AsyncClient per request, an `httpx.get` (so a client,
and a TLS context) per blocking call."""

from contextlib import asynccontextmanager, contextmanager

import httpx

from ..calls import get, get_async

NAME = "article"
SYNC = True


@asynccontextmanager
async def session():
    async with httpx.AsyncClient() as client:
        yield lambda call, timeout: get_async(client, call, timeout)


@contextmanager
def sync_session():
    yield get
