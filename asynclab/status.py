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

from . import cpu, dbsignals, gil
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


# Fixed when the interpreter was built: --disable-gil or not.
FREE_THREADED_BUILD = gil.free_threaded_build()


def _gil(workers: list[dict]) -> dict:
    """The service's GIL from every worker's own report (asynclab/gil.py): `gil_enabled`,
    and `gil` with the build, each worker's value by pid, why a free-threaded build runs
    with it, and `free_threaded`, false unless the build is and no worker runs with it."""
    values = [worker.get("gil_enabled") for worker in workers]
    reasons = [worker["gil_reenabled_by"] for worker in workers if worker.get("gil_reenabled_by")]
    found = gil.verdict(FREE_THREADED_BUILD, values)
    return {
        "gil_enabled": found["gil_enabled"],
        "gil": {
            "free_threaded_build": FREE_THREADED_BUILD,
            "free_threaded": found["free_threaded"],
            "workers": {str(worker["pid"]): worker.get("gil_enabled") for worker in workers},
            "reenabled_by": reasons[0] if reasons else None,
        },
    }


@endpoint(lambda query: None)
def healthz(request, params):
    # Healthy once every worker has paid its first-request costs (asynclab/warmup.py), so
    # no measurement starts while a worker is still importing its views.
    found = telemetry_.workers()
    warm = sum(1 for worker in found if worker.get("warm_ms") is not None)
    workers = settings.SERVER.describe()["workers"]
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
            **_gil(found),
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
