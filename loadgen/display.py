"""How the tables show a measurement's figures, so that none says more than it measured:
a percentile only with the samples it needs (else the maximum, with its count), a value a
timed-out request may have set as "at least", and errors with what they were."""

from __future__ import annotations

from .stats import percentile_of_name, samples_needed
from .units import format_duration


def count(figures: dict) -> int | None:
    """The samples behind a measurement's latency: its successes and its timed-out requests."""
    return (figures.get("latency") or {}).get("count")


def enough(figures: dict, name: str) -> bool:
    """Whether the measurement has the samples `name` (p50, p99, ...) needs."""
    q = percentile_of_name(name)
    n = count(figures)
    return q is None or n is None or n >= samples_needed(q)


def lower_bound(figures: dict, value: float | None) -> bool:
    """Whether `value` may be a timed-out request's time, known only as at least that much."""
    floor = (figures.get("latency") or {}).get("lower_bound_from")
    return value is not None and floor is not None and value >= floor


def latency(figures: dict, name: str) -> str:
    """A latency figure for a table: '1.23 s', '≥ 60.0 s' where timed-out requests set it,
    'max 0.98 s (n=40)' for a percentile its samples cannot give, '-' when nothing was measured."""
    value = figures.get(name)
    if value is None:
        return "-"
    if not enough(figures, name):
        top = figures.get("max")
        mark = "≥ " if lower_bound(figures, top) else ""
        return f"max {mark}{format_duration(top)} (n={count(figures)})"
    return ("≥ " if lower_bound(figures, value) else "") + format_duration(value)


def errors(figures: dict) -> str:
    """'0', or '7: 500 x5, timeout x2' (by what each was: an HTTP status or a transport failure)."""
    total = figures.get("errors") or 0
    if not total:
        return "0"
    by = figures.get("errors_by")
    if by is None:  # a result from before errors were counted by status
        by = {**(figures.get("error_kinds") or {})}
    parts = ", ".join(f"{kind} x{n}" for kind, n in sorted(by.items(), key=lambda item: -item[1]))
    return f"{total}: {parts}" if parts else str(total)


def requests(figures: dict) -> str:
    """The count behind a row: requests measured ('120'), with the successes when some failed."""
    total, ok = figures.get("requests"), figures.get("ok")
    if total is None:
        return "-"
    if ok is not None and ok != total:
        return f"{total} ({ok} ok)"
    return str(total)
