"""gunicorn's gevent worker, with asyncio's running loop kept per greenlet.

Under WSGI Django runs an async view (the backend's /api/async/, the gateway's gather) by
async_to_sync: a fresh event loop on a helper thread, which under gevent is a greenlet
in the same OS thread. asyncio keeps "the running loop" per OS thread, so while one
request's loop waits, every other greenlet sees it as running: the next async view fails
("Cannot run the event loop while another loop is running") and a sync view's ORM call
raises SynchronousOnlyOperation. A greenlet switch hook saves the running loop of the
greenlet switched from and restores the one of the greenlet switched to.
"""

from __future__ import annotations

import weakref
from asyncio import events

import greenlet
from gunicorn.workers.ggevent import GeventWorker


def keep_running_loops_per_greenlet() -> None:
    loops: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    previous = greenlet.gettrace()

    def trace(event: str, args: tuple) -> None:
        if event in ("switch", "throw"):
            origin, target = args
            loop = events._get_running_loop()
            if loop is None:
                loops.pop(origin, None)
            else:
                loops[origin] = loop
            events._set_running_loop(loops.get(target))
        if previous is not None:
            previous(event, args)

    greenlet.settrace(trace)


class Worker(GeventWorker):
    def patch(self) -> None:
        super().patch()  # monkey.patch_all(), before the app (and psycopg) is imported
        keep_running_loops_per_greenlet()
