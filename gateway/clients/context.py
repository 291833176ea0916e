"""The article's clients with one TLS context for the process: a client per request (or
per call) still, but without loading the CA bundle each time."""

from contextlib import asynccontextmanager, contextmanager

import httpx

from ..calls import get, get_async
from .tls import context as tls

NAME = "context"
SYNC = True


@asynccontextmanager
async def session():
    async with httpx.AsyncClient(verify=tls()) as client:
        yield lambda call, timeout: get_async(client, call, timeout)


@contextmanager
def sync_session():
    yield lambda call, timeout: get(call, timeout, verify=tls())
