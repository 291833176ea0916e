"""What the mode modules share: how one declares a knob it maps, and gunicorn's argv.

Kept free of Django and of every server: gunicorn's master imports this package for the
lab's worker classes (workers/), and under gevent nothing may load Django before the
worker has patched the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version


@dataclass(frozen=True)
class Option:
    """What WORKERS or THREADS sets in one server: the server's own option, and what it counts."""

    flag: str
    counts: str
    default: int | None = None  # None: the knob's own default (asynclab/knobs/)


def at_least(package: str, *wanted: int) -> bool:
    """Whether `package` is installed at `wanted` or later: the older Djangos' images pin the
    servers of their time (docs/versions.md), which lack some of the options used here."""
    try:
        installed = version(package)
    except PackageNotFoundError:
        return False
    numbers = tuple(int(part) if part.isdigit() else 0 for part in installed.split(".")[: len(wanted)])
    return numbers >= wanted


def limits() -> dict[str, int]:
    """The lab's limits for the servers' parsers (asynclab/edge.py), imported only when a
    command is built: edge imports Django."""
    from ..edge import server_limits

    return server_limits()


def head_bytes() -> int:
    """One bound for a whole request head, for servers that have no other: twice the largest
    head the lab accepts (its target, its header bytes and 4 bytes of ': ' and CRLF per
    field), so the lab's JSON 414/431 come first."""
    from ..edge import MAX_HEADER_BYTES, MAX_HEADERS, MAX_TARGET

    return 2 * (MAX_TARGET + MAX_HEADER_BYTES + 4 * MAX_HEADERS)


def gunicorn(cfg, worker_class: str, *extra: str, parser: bool = True) -> list[str]:
    """gunicorn with `worker_class` and the lab's settings, the same for every gunicorn mode;
    `parser`: the worker reads requests with gunicorn's own parser, whose limits apply."""
    return [
        # gunicorn 20.0 (Django 3.1's image) has no __main__ module; its wsgiapp has always run.
        "gunicorn" if at_least("gunicorn", 20, 1) else "gunicorn.app.wsgiapp",
        f"{cfg.service}.{cfg.interface}:application",
        "--bind",
        f"{cfg.host}:{cfg.port}",
        "--worker-class",
        worker_class,
        "--workers",
        str(cfg.workers),
        *extra,
        # Short grace so `make down` is quick; in-flight lab calls are seconds at most.
        "--graceful-timeout",
        "3",
        # Heartbeat files in memory, not on the container's (possibly read-only) disk.
        "--worker-tmp-dir",
        "/dev/shm",
        # No --access-logfile: the lab's middleware writes one JSON access line per request.
        # gunicorn 27 opens a control socket in $HOME by default; the lab does not use it
        # (gunicorn 20, in the Django 3.x images, has no such socket and no such option).
        *(["--no-control-socket"] if at_least("gunicorn", 24) else []),
        *(parser_limits() if parser else ()),
    ]


def parser_limits() -> list[str]:
    # Above the lab's own limits (asynclab/edge.py), so the lab answers 414/431 in JSON
    # first; gunicorn's defaults (8190-byte field, 100 fields) sit below some of them.
    bounds = limits()
    return [
        "--limit-request-line",
        str(bounds["request_line"]),
        "--limit-request-fields",
        str(bounds["header_fields"]),
        "--limit-request-field_size",
        str(bounds["header_field_bytes"]),
    ]
