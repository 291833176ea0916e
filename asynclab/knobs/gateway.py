"""The gateway's knobs: its fan-out's defaults for what a caller leaves out, and the largest
values it accepts."""

from __future__ import annotations

from ..api import CLIENT_CHOICES
from .knob import (
    GATEWAY,
    Knob,
)

KNOBS: list[Knob] = [
    # --- gateway -----------------------------------------------------------------------
    Knob(
        "GATEWAY_MAX_FANOUT",
        100,
        "largest ?n= (calls per aggregation) accepted",
        GATEWAY,
        ("gateway",),
        low=1,
        high=1000,
    ),
    Knob("GATEWAY_MAX_TIMEOUT", 60.0, "largest ?timeout= accepted", GATEWAY, ("gateway",), low=0.01, high=3600),
    Knob(
        "GATEWAY_TIMEOUT",
        5.0,
        "per-call timeout in seconds when the caller gives no ?timeout= (httpx's own "
        "default; the article's timeouts depend on it)",
        GATEWAY,
        ("gateway",),
        low=0.01,
        high="GATEWAY_MAX_TIMEOUT",
        default_at_most="GATEWAY_MAX_TIMEOUT",
    ),
    Knob(
        "GATEWAY_POOL_SIZE",
        10,
        "threads of the threadpool strategy's ThreadPoolExecutor (the article's max_workers=10)",
        GATEWAY,
        ("gateway",),
        low=1,
        high=1000,
    ),
    Knob("GATEWAY_MAX_DEADLINE", 60.0, "largest ?deadline= accepted", GATEWAY, ("gateway",), low=0.01, high=3600),
    Knob(
        "GATEWAY_BACKEND_WAIT",
        0.0,
        "seconds the gateway waits at start for the backend's /healthz (0: not at all; compose "
        "orders the start with depends_on, the swarm stack, which cannot, sets it)",
        GATEWAY,
        ("gateway",),
        low=0,
        high=600,
    ),
    Knob(
        "GATEWAY_DEADLINE",
        30.0,
        "deadline of a whole fan-out when the caller gives no ?deadline= (above the "
        "article's 10 sequential calls of 1 s)",
        GATEWAY,
        ("gateway",),
        low=0.01,
        high="GATEWAY_MAX_DEADLINE",
        default_at_most="GATEWAY_MAX_DEADLINE",
    ),
    Knob(
        "GATEWAY_MAX_CALLS",
        1000,
        "backend calls in flight per gateway process, over every aggregation; one that does not fit gets 503 at once",
        GATEWAY,
        ("gateway",),
        low="GATEWAY_MAX_FANOUT",
        high=100_000,
    ),
    Knob(
        "GATEWAY_CLIENT",
        "auto",
        "HTTP client when the caller gives no ?client=: auto = aiohttp for gather, "
        "httpx.get with one TLS context for the sync views",
        GATEWAY,
        ("gateway",),
        str.lower,
        choices=CLIENT_CHOICES,
    ),
]
