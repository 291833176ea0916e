"""uvicorn's gunicorn worker, set up as SERVER_MODE=asgi sets uvicorn up."""

from __future__ import annotations

from uvicorn_worker import UvicornWorker


class Worker(UvicornWorker):
    CONFIG_KWARGS = {
        **UvicornWorker.CONFIG_KWARGS,
        # Django does not speak the lifespan protocol; "off" saves a confusing log line.
        "lifespan": "off",
        # The lab's middleware writes one JSON access line per request, with its id.
        "access_log": False,
        # gunicorn's --graceful-timeout bounds the worker; uvicorn then stops waiting too.
        "timeout_graceful_shutdown": 3,
    }
