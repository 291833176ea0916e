"""Structured logs: every line a service writes to stdout is one JSON object.

One access line per request (event "access"), written by the lab's middleware, carries
the request id, so `docker compose logs gateway backend | grep <id>` follows a request
across both hops. The servers' own access logs are off, and Django's "Not Found: /x"
style warnings are dropped: they would repeat the access line without its id.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import datetime, timezone
from typing import Any

from . import requestid

ACCESS = logging.getLogger("asynclab.access")
# One-off lines about a process, not a request (event "warm": asynclab/warmup.py).
EVENTS = logging.getLogger("asynclab.events")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _service() -> tuple[str | None, str | None]:
    from django.conf import settings

    try:
        return getattr(settings, "SERVICE", None), getattr(getattr(settings, "SERVER", None), "mode", None)
    except Exception:  # settings not configured: a log line must still be written
        return None, None


def _frame(event: str, pid: int | None, thread: str | None, request_id: str | None) -> dict[str, Any]:
    """The fields every line starts with, in a fixed order so the lines read alike."""
    service, mode = _service()
    return {
        "time": now(),
        "event": event,
        "service": service,
        "mode": mode,
        "pid": pid,
        "thread": thread,
        "request_id": request_id,
    }


def access_line(
    *,
    method: str,
    path: str,
    query: str,
    status: int,
    elapsed: float,
    request_id: str | None,
    client_id: bool,
    **extra: Any,
) -> dict[str, Any]:
    line = _frame("access", os.getpid(), threading.current_thread().name, request_id)
    line.update(
        {
            # False when the client sent no id, or one the service refused and replaced.
            "client_id": client_id,
            "method": method,
            "path": path,
            "query": query[:200],
            "status": status,
            "elapsed_ms": round(elapsed * 1000, 3),
        }
    )
    line.update(extra)
    return line


def access(line: dict[str, Any]) -> None:
    ACCESS.info("access", extra={"access": line})


def event(name: str, **fields: Any) -> dict[str, Any]:
    """One line about this process: the usual frame, then `fields`; printed as they are."""
    line = _frame(name, os.getpid(), threading.current_thread().name, None)
    line.update(fields)
    EVENTS.info(name, extra={"access": line})
    return line


class JsonFormatter(logging.Formatter):
    """Access and event records print their fields as they are; anything else gets the same frame."""

    def format(self, record: logging.LogRecord) -> str:
        line = getattr(record, "access", None)
        if line is None:
            line = _frame("log", record.process, record.threadName, requestid.current.get())
            line.update(level=record.levelname, logger=record.name, message=record.getMessage())
            if record.exc_info:
                line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class OnlyExceptions(logging.Filter):
    """django.request logs every 4xx/5xx response; keep only those with a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.exc_info is not None


def config(level: str) -> dict[str, Any]:
    """Django's LOGGING for both services."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "filters": {"only_exceptions": {"()": OnlyExceptions}},
        "handlers": {
            "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "json"},
            "stdout_exceptions": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json",
                "filters": ["only_exceptions"],
            },
            "null": {"class": "logging.NullHandler"},
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            # Not propagated: one line per request, never two.
            "asynclab.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
            "asynclab.events": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
            "django.request": {"handlers": ["stdout_exceptions"], "propagate": False},
            # runserver's own access log.
            "django.server": {"handlers": ["null"], "propagate": False},
            # httpx logs every call at INFO: n lines per aggregation, without the request id.
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
        },
    }
