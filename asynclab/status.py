"""GET /healthz: liveness plus what is really serving this request; GET /telemetry: what
every process of the service is doing (threads, memory, CPU, in flight, loop lag).

`interface` comes from the request object Django built, not from configuration, so it
shows whether SERVER_MODE really took effect; loadgen records the rest with every result.
Both are read-only, take no parameters and hold no secrets; they are served on the same
port as the API, which compose publishes on loopback only (PUBLISH_HOST).
"""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest

from . import cpu, dbsignals
from . import telemetry as telemetry_
from .http import ApiResponse
from .query import endpoint


def _versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for package in ("django", "asgiref", "httpx", "uvicorn", "gunicorn", "psycopg", "psycopg-pool"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found


VERSIONS = _versions()
# The kernel sets it when the container starts (compose cpus / cpuset); it does not change.
CPU = cpu.budget()


def _database() -> dict | None:
    """The engine and the connection settings that change what the lab measures."""
    default = settings.DATABASES.get("default")
    if not default or not dbsignals.has_database(settings.DATABASES):
        return None
    return {
        "engine": default["ENGINE"].rsplit(".", 1)[-1],
        "conn_max_age": default.get("CONN_MAX_AGE", 0),
        "pool": default.get("OPTIONS", {}).get("pool") or None,
    }


def _limits() -> dict:
    """The budgets load can fill besides CPU and threads, per process, for loadgen's bounds:
    the gateway's backend calls in flight (GATEWAY_MAX_CALLS); the backend has none."""
    return {"calls": getattr(settings, "GATEWAY_MAX_CALLS", None)}


def _warm_workers() -> int:
    return sum(1 for worker in telemetry_.workers() if worker.get("warm_ms") is not None)


@endpoint(lambda query: None)
def healthz(request, params):
    # Healthy once every worker has paid its first-request costs (asynclab/warmup.py), so
    # no measurement starts while a worker is still importing its views.
    warm, workers = _warm_workers(), settings.SERVER.describe()["workers"]
    if warm < workers:
        # Not json_error(): its first parameter is already named `status`.
        return ApiResponse(
            {
                "error": "starting",
                "message": f"{warm} of {workers} workers warmed up",
                "status": "starting",
                "warm_workers": warm,
                "workers": workers,
            },
            status=503,
        )
    return ApiResponse(
        {
            "status": "ok",
            "service": settings.SERVICE,
            "server_mode": settings.SERVER.mode,
            "interface": "asgi" if isinstance(request, ASGIRequest) else "wsgi",
            "server": settings.SERVER.describe(),
            "pid": os.getpid(),
            "db_signals": dbsignals.applied,
            "django31_threads": settings.DJANGO31_THREADS,
            "lean": settings.LEAN,
            "database": _database(),
            "versions": VERSIONS,
            "cpu": CPU,
            "limits": _limits(),
        }
    )


@endpoint(lambda query: None)
def telemetry(request, params):
    return ApiResponse(
        {
            "service": settings.SERVICE,
            "server_mode": settings.SERVER.mode,
            "answered_by": os.getpid(),
            "sample_interval": telemetry_.SAMPLE,
            **telemetry_.report(),
        }
    )
