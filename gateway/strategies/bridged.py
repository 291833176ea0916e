"""A sync view that still fans out concurrently: gather's calls run through async_to_sync,
the adapter's intended use in a sync codebase.

Under WSGI the adapter runs them in a new event loop for the request; under ASGI the sync
view is already on a worker thread, and the adapter hands the calls back to the server's
own event loop and blocks that thread until they are done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from asgiref.sync import async_to_sync

from ..calls import Call, Outcome
from . import gather

if TYPE_CHECKING:
    from ..aggregation import Plan

NAME = "async-to-sync"
MESSAGE = "Hello async_to_sync World!"
CONCURRENT = True
# The calls are made by async clients, whatever the view is.
KIND = "async"


def fetch(calls: list[Call], plan: Plan) -> list[Outcome]:
    return async_to_sync(gather.fetch)(calls, plan)
