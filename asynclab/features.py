"""What the Django this service runs can and cannot do, in one table (docs/versions.md).

The lab runs on Django 3.1 to 6.1 (DJANGO=...). Code shared by every version asks here
instead of comparing versions itself: a view that needs a newer Django answers 501 JSON
naming the feature and the version (`requires`), and a knob that needs one stops the
service at start with a message naming the knob (`check`, from the entrypoint).

Nothing here imports Django at import time: the entrypoint calls `check` before it lets
Django set up, and gunicorn's master imports the server modes, which may ask `installed`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from .config import ConfigError


@dataclass(frozen=True)
class Feature:
    since: tuple[int, int]  # the first Django that has it
    what: str
    until: tuple[int, int] | None = None  # the last Django that has it, when it is tied to one


FEATURES: dict[str, Feature] = {
    "async-orm": Feature((4, 1), "the async ORM API (acount(), aget(), async for over a QuerySet)"),
    "async-streaming": Feature((4, 2), "StreamingHttpResponse over an async iterator"),
    "psycopg3": Feature((4, 2), "PostgreSQL through psycopg 3 (DB=postgres)"),
    "db-pool": Feature((5, 1), "PostgreSQL connection pooling (DB_POOL)"),
    # The emulation of 3.1's one thread hands asgiref's ThreadSensitiveContext an executor,
    # which asgiref takes since 3.8: the images of 4.2 and later. 3.1 and 3.2 need none: their
    # ASGIHandler opens no context per request (4.0's does), so they share one thread anyway.
    "django31-emulation": Feature(
        (4, 2), "DJANGO31_THREADS (it needs asgiref's ThreadSensitiveContext(executor=), asgiref 3.8 or later)"
    ),
    # asynclab/handler.py copies Django 5.2's ASGIHandler: it is right for that one only.
    "lean-handler": Feature((5, 2), "the lab's lean ASGI handler (LEAN), a copy of Django 5.2's", until=(5, 2)),
}

# knob -> (the value, as asynclab.knobs reads it, that needs the feature; the feature).
KNOBS: dict[str, tuple[Any, str]] = {
    "DB": ("postgres", "psycopg3"),
    "DB_POOL": (True, "db-pool"),
    "DJANGO31_THREADS": (True, "django31-emulation"),
    "LEAN": (True, "lean-handler"),
}


def installed(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


@functools.cache
def django_version() -> str:
    return installed("django") or "?"


def line(text: str | None = None) -> tuple[int, int]:
    """(major, minor) of a Django version: 3.1 for 3.1.14."""
    major, minor = (text or django_version()).split(".")[:2]
    return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)


def series(text: str | None = None) -> str:
    """The version line as DJANGO names it: '3.1'."""
    return "{}.{}".format(*line(text))


def python() -> str:
    """This interpreter as PYTHON names it: '3.14', or '3.14t' for a free-threaded build."""
    import sys

    from .gil import free_threaded_build

    return "{}.{}{}".format(*sys.version_info[:2], "t" if free_threaded_build() else "")


def runtime() -> str:
    """'Django 3.1.14 on Python 3.9.2': what a message names (a free-threaded build says so)."""
    import platform

    from .gil import free_threaded_build

    build = " (free-threaded)" if free_threaded_build() else ""
    return f"Django {django_version()} on Python {platform.python_version()}{build}"


def lacks(name: str, django: str | None = None) -> str | None:
    """Why this Django lacks feature `name`, or None when it has it."""
    feature = FEATURES[name]
    here = line(django)
    if here < feature.since:
        return f"{feature.what} needs Django {'{}.{}'.format(*feature.since)} or later; this service runs {runtime()}"
    if feature.until is not None and here > feature.until:
        return f"{feature.what} is for Django {'{}.{}'.format(*feature.until)} only; this service runs {runtime()}"
    return None


def has(name: str) -> bool:
    return lacks(name) is None


def not_implemented(name: str):
    """The 501 a view answers for a feature this Django lacks."""
    from .http import json_error

    return json_error(
        501,
        "not_in_this_django",
        lacks(name),
        feature=name,
        django=django_version(),
        needs=".".join(map(str, FEATURES[name].since)),
    )


def requires(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A view that needs feature `name`: on a Django without it, a 501 JSON answer naming the
    feature and both versions, as a view of the same kind (Django adapts nothing)."""
    FEATURES[name]  # a typo fails at import, not at the first request

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        if has(name):
            return view
        from .compat import iscoroutinefunction, markcoroutinefunction

        if iscoroutinefunction(view):

            async def async_view(request, *args, **kwargs):
                return not_implemented(name)

            return markcoroutinefunction(functools.wraps(view)(async_view))

        @functools.wraps(view)
        def sync_view(request, *args, **kwargs):
            return not_implemented(name)

        return sync_view

    return decorate


def check(service: str, environ: Mapping[str, str] | None = None) -> None:
    """Stop at start (ConfigError) when a knob asks for what this Django lacks, or when DJANGO
    names another Django than the image's (a DJANGO_IMAGE set by hand)."""
    environ = os.environ if environ is None else environ
    from .knobs import KNOBS as DECLARED
    from .knobs import read

    # Only when given: unset, the image's own Django is the one meant.
    wanted = read("DJANGO", environ=environ) if environ.get("DJANGO", "").strip() else None
    if wanted and wanted != series():
        raise ConfigError(
            f"DJANGO={wanted}, but this image runs {runtime()}: run the image of Django {wanted} "
            f"(make up DJANGO={wanted} builds and runs it; docs/versions.md)"
        )
    # The same for PYTHON (a free-threaded build is another interpreter than its GIL twin).
    interpreter = read("PYTHON", environ=environ) if environ.get("PYTHON", "").strip() else None
    if interpreter and interpreter != python():
        raise ConfigError(
            f"PYTHON={interpreter}, but this image runs {runtime()}: run the image of PYTHON={interpreter} "
            f"(make up PYTHON={interpreter} builds and runs it; docs/versions.md)"
        )
    for knob, (value, feature) in KNOBS.items():
        # Only the services that read the knob: the gateway has no database.
        if service in DECLARED[knob].read_by and read(knob, environ=environ) == value:
            reason = lacks(feature)
            if reason is not None:
                raise ConfigError(f"{knob}={environ[knob].strip()}: {reason}: unset {knob} or use another DJANGO")
