"""gunicorn's gevent worker, with asyncio's per-thread state kept per greenlet.

Under WSGI Django runs an async view (the backend's /api/async/, the gateway's gather) by
async_to_sync: a fresh event loop on a helper thread, which under gevent is a greenlet
in the same OS thread. asyncio keeps two things per OS thread that each such loop sets
while it runs, and greenlets share them:
- "the running loop": while one request's loop waits, every other greenlet sees it as
  running, so the next async view fails ("Cannot run the event loop while another loop is
  running") and a sync view's ORM call raises SynchronousOnlyOperation;
- the async-generator hooks (sys.set_asyncgen_hooks), which a loop installs in
  run_forever and puts back when it stops. Interleaved, one request's loop files the async
  generators of another's (aiohttp sessions, the gateway's clients) and, when it shuts
  down, closes them from the wrong loop: "attached to a different loop", "asynchronous
  generator is already running", and the gateway answered 500 and 502 (nginx's 502 where a
  worker died of it) in the reference server matrix.
A greenlet switch hook saves both for the greenlet switched from and restores the ones of
the greenlet switched to.
"""

from __future__ import annotations

import sys
import weakref
from asyncio import events

import greenlet
from gunicorn.workers.ggevent import GeventWorker

# What a greenlet that never ran a loop has: no running loop, no hooks.
NOTHING = (None, (None, None))


def keep_asyncio_state_per_greenlet() -> None:
    states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    previous = greenlet.gettrace()

    def trace(event: str, args: tuple) -> None:
        if event in ("switch", "throw"):
            origin, target = args
            state = (events._get_running_loop(), tuple(sys.get_asyncgen_hooks()))
            if state == NOTHING:
                states.pop(origin, None)
            else:
                try:
                    states[origin] = state
                except TypeError:  # a greenlet that cannot be weakly referenced: nothing to keep
                    pass
            loop, hooks = states.get(target, NOTHING)
            events._set_running_loop(loop)
            sys.set_asyncgen_hooks(*hooks)
        if previous is not None:
            previous(event, args)

    greenlet.settrace(trace)


class Worker(GeventWorker):
    def patch(self) -> None:
        super().patch()  # monkey.patch_all(), before the app (and psycopg) is imported
        keep_asyncio_state_per_greenlet()
