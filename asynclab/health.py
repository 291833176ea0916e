"""GET /healthz: liveness plus what is really serving this request.

`interface` comes from the request object Django built, not from configuration, so it
shows whether SERVER_MODE really took effect; loadgen records the rest with every result.
"""

import os
import platform
from importlib.metadata import PackageNotFoundError, version

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest

from .http import ApiResponse
from .query import endpoint


def _versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for package in ("django", "asgiref", "httpx", "uvicorn", "gunicorn"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found


VERSIONS = _versions()


@endpoint(lambda query: None)
def healthz(request, params):
    return ApiResponse(
        {
            "status": "ok",
            "service": settings.SERVICE,
            "server_mode": settings.SERVER.mode,
            "interface": "asgi" if isinstance(request, ASGIRequest) else "wsgi",
            "server": settings.SERVER.describe(),
            "pid": os.getpid(),
            "versions": VERSIONS,
        }
    )
