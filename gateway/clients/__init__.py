"""HTTP clients the gateway can fan out with, one module each, keyed by `client=`.

Each module is a Client: its NAME, SYNC and `session()`; a module with SYNC = True is also
a SyncClient, with `sync_session()` for the blocking views. The names are
asynclab/api.py's CLIENTS.

A client kept across requests is kept per event loop, never across loops: under WSGI
Django runs each async view in a one-off loop, so there it lives for one request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Protocol, runtime_checkable

from ..calls import Call, Outcome
from . import aiohttp_session, article, context, shared

# What a session yields: one call with its timeout (seconds), and what came of it.
AsyncGet = Callable[[Call, float], Awaitable[Outcome]]
Get = Callable[[Call, float], Outcome]


@runtime_checkable
class Client(Protocol):
    NAME: str  # client=
    SYNC: bool  # whether it is a SyncClient too: the sync views refuse it otherwise

    def session(self) -> AbstractAsyncContextManager[AsyncGet]:
        """For one fan-out in an async view."""
        ...


@runtime_checkable
class SyncClient(Client, Protocol):
    def sync_session(self) -> AbstractContextManager[Get]:
        """For one fan-out in a sync view; its `get` is safe to call from threads."""
        ...


CLIENTS: dict[str, Client] = {m.NAME: m for m in (article, context, shared, aiohttp_session)}
# `client=auto` (the default): the fastest that stayed stable under load in `loadgen
# clients` (README, Expected results), per kind of view. One shared httpx client was
# slower under load in both kinds, and the AsyncClient collapsed (encode/httpx#3215).
AUTO = {"async": aiohttp_session.NAME, "sync": context.NAME}


def pick(name: str, kind: str) -> Client:
    """The client for `client=name` in a view of `kind` (async|sync)."""
    return CLIENTS[AUTO[kind] if name == "auto" else name]


def warm() -> None:
    """The first sync fan-out's set-up, paid at start (asynclab/warmup.py): the process's TLS
    context, and httpx's lazily imported transport (httpcore, h11, anyio, certifi)."""
    import httpx

    from . import tls

    httpx.Client(verify=tls.context()).close()
