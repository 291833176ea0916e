"""HTTP clients the gateway can fan out with, one module each, keyed by `client=`.

Each module has NAME, DESCRIPTION, `session()` (an async context manager yielding
`async get(call, timeout) -> Outcome`) and, unless SYNC is False, `sync_session()` (a
context manager yielding `get(call, timeout) -> Outcome`, safe to call from threads).

A client kept across requests is kept per event loop, never across loops: under WSGI
Django runs each async view in a one-off loop, so there it lives for one request.
"""

from types import ModuleType

from . import aiohttp_session, article, context, shared

CLIENTS: dict[str, ModuleType] = {m.NAME: m for m in (article, context, shared, aiohttp_session)}
# `client=auto` (the default): the fastest that stayed stable under load in `loadgen
# clients` (README, Expected results), per kind of view. One shared httpx client was
# slower under load in both kinds, and the AsyncClient collapsed (encode/httpx#3215).
AUTO = {"async": aiohttp_session.NAME, "sync": context.NAME}


def pick(name: str, kind: str) -> ModuleType:
    """The client module for `client=name` in a view of `kind` (async|sync)."""
    return CLIENTS[AUTO[kind] if name == "auto" else name]


def warm() -> None:
    """The first sync fan-out's set-up, paid at start (asynclab/warmup.py): the process's TLS
    context, and httpx's lazily imported transport (httpcore, h11, anyio, certifi)."""
    import httpx

    from . import tls

    httpx.Client(verify=tls.context()).close()
