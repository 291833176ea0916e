"""Server-Timing: how each service says where its time went, and how callers read it.

Every service reports `app` (its handler time, inside Django's middleware); the gateway
adds `fanout` (wall time of the fan-out), `call` (its slowest backend call, as it saw it)
and `backend` (the backend handler time on the fan-out's critical path).
"""

from __future__ import annotations

import re

HEADER = "Server-Timing"
_METRIC = re.compile(r"\s*([A-Za-z0-9_-]+)((?:\s*;\s*[A-Za-z]+\s*=\s*(?:\"[^\"]*\"|[^,;]*))*)\s*(?:,|$)")
_DUR = re.compile(r";\s*dur\s*=\s*\"?([0-9.eE+-]+)\"?")


def header(metrics: dict[str, float | None]) -> str:
    """`{"app": 0.0123}` (seconds) -> `app;dur=12.300` (milliseconds, as the spec says)."""
    return ", ".join(f"{name};dur={seconds * 1000:.3f}" for name, seconds in metrics.items() if seconds is not None)


def parse(text: str | None) -> dict[str, float]:
    """The inverse of header(): metric name -> seconds; metrics without a duration are skipped."""
    found: dict[str, float] = {}
    if not text:
        return found
    for match in _METRIC.finditer(text):
        if not match.group(1):
            continue
        duration = _DUR.search(match.group(2) or "")
        if duration:
            try:
                found[match.group(1)] = float(duration.group(1)) / 1000
            except ValueError:
                continue
    return found
