"""Warm-up: pay at start what a fresh worker would otherwise pay on its first requests.

Django imports the URLconf, and with it every view module, at the first request a process
serves: for the backend that is backend.views and psycopg (imported even with DB=sqlite),
~110-130 ms; for the gateway httpx, aiohttp and the aggregation code, ~250-350 ms. The
gateway's first sync fan-out also built the TLS context (~30 ms) and the first httpx client
(~35-60 ms, httpcore/h11/anyio/certifi imported lazily). Measured on a 2-core host: with
WORKERS=2 the first request each fresh worker served reported ~180-220 ms more handler
time (Server-Timing `app`) than every later one (README, Server-Timing).

`warm(application)` does it once per worker process, from the services' wsgi/asgi entry
modules: gunicorn (no --preload) and uvicorn (--workers) both import those in each worker
before it accepts a connection, so no request ever waits for it. It writes one line,
{"event": "warm", "pid": ..., "ms": ..., "steps": {...}}, and a worker whose warm-up fails
raises: it never starts serving, and the server logs why.
"""

from __future__ import annotations

import logging
import time
from typing import TypeVar

App = TypeVar("App")

log = logging.getLogger("asynclab.warmup")


def urlconf() -> None:
    """Import the URLconf, every view it names and the error handlers, as the first
    request would."""
    from django.urls import get_resolver

    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - the import is the point
    for status in (400, 404, 500):
        resolver.resolve_error_handler(status)


def run() -> dict[str, float]:
    """The URLconf, then the service's own steps (settings.WARMUP, dotted paths: the common
    package imports no service); milliseconds per step. Raises if a step fails."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    steps: dict[str, float] = {}
    for step in (urlconf, *map(import_string, getattr(settings, "WARMUP", ()))):
        start = time.perf_counter()
        step()
        steps[step.__name__] = round((time.perf_counter() - start) * 1000, 3)
    return steps


def warm(application: App) -> App:
    """Warm this process up, log it, and hand the application back unchanged."""
    from . import gil, logs, telemetry

    start = time.perf_counter()
    try:
        steps = run()
    except BaseException:
        # Loud: a JSON line with the traceback, then the exception stops the worker.
        log.exception("warm-up failed: this worker will not serve")
        raise
    ms = round((time.perf_counter() - start) * 1000, 3)
    worker = telemetry.worker()
    # After every import the worker makes at start: a free-threaded build that finds the
    # GIL on says so now, and why, before it serves (asynclab/gil.py).
    found = gil.state(find_culprits=True)
    worker.gil_reenabled_by = found["reenabled_by"]
    worker.warm_ms = ms
    # Published now: the sampler's first file, written as it started, still says "not
    # warm", and /healthz in another worker would read that for up to PUBLISH seconds.
    telemetry.publish(worker.snapshot())
    logs.event("warm", ms=ms, steps=steps, gil_enabled=found["gil_enabled"])
    if found["reenabled_by"]:
        logs.event(
            "gil_reenabled",
            level="WARNING",
            reenabled_by=found["reenabled_by"],
            message="a free-threaded build running WITH the GIL: this worker's results are not free-threaded",
        )
    return application
