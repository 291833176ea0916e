"""Durations as people write them on a command line: 500ms, 2s, 1.5m, or a bare number of seconds."""

import re

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(us|ms|s|m|h)?\s*")


def parse_duration(text: str) -> float:
    """Seconds in `text`; ValueError for anything else (negative, empty, unknown unit)."""
    match = _DURATION.fullmatch(str(text))
    if not match:
        raise ValueError(f"not a duration: {text!r} (examples: 500ms, 2s, 1.5m)")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def format_duration(seconds: float | None) -> str:
    """Short, fixed-precision text for tables: 850 us, 12.3 ms, 1.02 s."""
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"
