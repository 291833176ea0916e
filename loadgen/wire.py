"""The wire between a conductor and its loadgen replicas: one JSON object a line, plans
going out and parts (tallies with their histograms) coming back.

Each side reads only as much as the other may need to send: a replica, the longest plan
the limits below allow (PLAN_LINE, a few hundred KB); the conductor, a part, which for a
timeline plan holds every request (PART_LINE). A plan is checked field by field against
the CLI's own limits before a replica measures anything.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import fields

from .plan import Plan
from .tally import RECORDERS

# 2: a connection proves it holds the replicas' secret before anything else (handshake.py).
PROTOCOL = 2
# The most a plan may ask of a replica: the CLI's own limits, so a conductor can send
# nothing its flags could not.
LIMITS = {
    "concurrency": 100_000,
    "rate": 100_000.0,
    "duration": 3600.0,
    "max_duration": 6 * 3600.0,
    "warmup": 3600.0,
    "timeout": 3600.0,
    "requests": 10_000_000,
    "max_inflight": 100_000,
    "workers": 16,
    "urls": 64,
}
# One URL: the services refuse a path and query over 2,048 bytes (asynclab/edge.py);
# scheme, host and port add little.
MAX_URL = 4096
# The longest line a replica reads: a plan of LIMITS["urls"] URLs of MAX_URL characters
# (JSON-quoted), with room for the other fields. The handshake's lines are far shorter.
PLAN_LINE = LIMITS["urls"] * (MAX_URL + 4) + 4096
# The longest line a conductor reads: a part holds two encoded histograms and, for a
# timeline plan, every request: bounded, but large.
PART_LINE = 64 * 1024 * 1024


class ReplicaError(RuntimeError):
    """A replica refused, failed or went away."""


def encode(message: dict) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


async def receive(reader: asyncio.StreamReader, timeout: float | None = None, limit: int = PART_LINE) -> dict:
    """The next message; ReplicaError if none comes within `timeout`, the line is longer
    than `limit` (the reader's own), it is not a JSON object with a type, or it is an error."""
    try:
        line = await asyncio.wait_for(reader.readline(), timeout)
    except TimeoutError:
        raise ReplicaError(f"nothing received within {timeout:g} s") from None
    except (ValueError, asyncio.LimitOverrunError):
        raise ReplicaError(f"a message longer than {limit} bytes") from None
    if not line:
        raise ReplicaError("the connection closed")
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's stack
        raise ReplicaError("a message that is not JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ReplicaError("a message without a type")
    if message["type"] == "error":
        raise ReplicaError(str(message.get("error")))
    return message


def plan_to_wire(plan: Plan) -> dict:
    return {field.name: getattr(plan, field.name) for field in fields(Plan)}


def plan_from_wire(data: object) -> Plan:
    """A Plan from a conductor's JSON, refusing anything a Plan does not hold or the CLI
    would not allow: a replica measures only what it can check."""
    if not isinstance(data, dict):
        raise ValueError("plan: not an object")
    known = {field.name: field for field in fields(Plan)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"plan: unknown fields {', '.join(unknown)}")
    values: dict = {}
    for name, value in data.items():
        default = known[name].default
        if name == "urls":
            if not isinstance(value, list | tuple) or not value or len(value) > LIMITS["urls"]:
                raise ValueError(f"plan: urls must be 1 to {LIMITS['urls']} URLs")
            if not all(isinstance(url, str) and url.startswith(("http://", "https://")) for url in value):
                raise ValueError("plan: every url must be an http(s) URL")
            if any(len(url) > MAX_URL for url in value):
                raise ValueError(f"plan: a url is longer than {MAX_URL} characters")
            values[name] = tuple(value)
            continue
        if value is None:
            if default is not None and name != "duration":
                raise ValueError(f"plan: {name} may not be null")
            values[name] = None
            continue
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"plan: {name} must be true or false")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"plan: {name} must be a number")
        elif value < 0 or value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"plan: {name} must be a finite number, at least 0")
        elif name in LIMITS and value > LIMITS[name]:
            raise ValueError(f"plan: {name} is {value}; at most {LIMITS[name]}")
        elif isinstance(default, int) and not isinstance(default, bool) and name != "rate":
            if value != int(value):
                raise ValueError(f"plan: {name} must be a whole number")
            value = int(value)
        values[name] = value
    if "urls" not in values:
        raise ValueError("plan: urls missing")
    plan = Plan(**values)
    if plan.concurrency < 1:
        raise ValueError("plan: concurrency must be at least 1")
    return plan


def shift(part: dict, offset: float) -> dict:
    """A part with its times moved by `offset` seconds: onto the start (a replica sends
    times relative to when it got it) and back onto the conductor's clock."""
    moved = dict(part)
    for name in ("started", "window_end", "last_done"):
        moved[name] = part[name] + offset
    if part.get("timeline") is not None:
        moved["timeline"] = [(intended + offset, latency, outcome) for intended, latency, outcome in part["timeline"]]
    return moved


def wire_part(part: dict) -> dict:
    """A tally.snapshot made JSON-safe: the histograms' encodings are bytes."""
    safe = dict(part)
    for name in RECORDERS:
        safe[name] = {**part[name], "histogram": part[name]["histogram"].decode("ascii")}
    safe["slowest"] = [list(entry) for entry in part["slowest"]]
    return safe


def part_from_wire(safe: dict) -> dict:
    part = dict(safe)
    for name in RECORDERS:
        part[name] = {**safe[name], "histogram": safe[name]["histogram"].encode("ascii")}
    part["slowest"] = [tuple(entry) for entry in safe["slowest"]]
    if safe.get("timeline") is not None:
        part["timeline"] = [tuple(entry) for entry in safe["timeline"]]
    for name in ("cpu_start", "cpu_end"):
        part[name] = tuple(safe[name]) if safe.get(name) else None
    return part
