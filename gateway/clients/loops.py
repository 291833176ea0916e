"""One client per event loop. Under ASGI the loop is the server's own and lives as long as
the worker, so its client is kept; under WSGI Django makes a one-off loop for each async
view, so the client is made and closed with the request, and never used from another loop."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from django.conf import settings


def long_lived() -> bool:
    return settings.SERVER.interface == "asgi"


class PerLoop:
    def __init__(self, make: Callable[[], Any], close: Callable[[Any], Awaitable[Any]]) -> None:
        self._make, self._close = make, close
        self._clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    @asynccontextmanager
    async def use(self):
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = self._make()
        try:
            yield client
        finally:
            if not long_lived():
                del self._clients[loop]
                await self._close(client)
