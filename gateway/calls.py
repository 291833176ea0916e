"""One backend call and what came of it.

A failed call is an Outcome with an error kind, never an exception that escapes the view:
the gateway answers with whatever its calls produced.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class Call:
    task_id: int
    url: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    task_id: int
    elapsed: float
    body: dict[str, Any] | None = None
    kind: str | None = None  # timeout | connect | transport | status | invalid_body
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return self.kind is None

    def error(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "kind": self.kind, "detail": self.detail, "elapsed": round(self.elapsed, 6)}


def received(call: Call, response: httpx.Response, start: float) -> Outcome:
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        return Outcome(call.task_id, elapsed, kind="status", detail=f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return Outcome(call.task_id, elapsed, kind="invalid_body", detail="response is not a JSON object")
    return Outcome(call.task_id, elapsed, body=body)


def failed(call: Call, exc: httpx.HTTPError, start: float) -> Outcome:
    if isinstance(exc, httpx.TimeoutException):
        kind = "timeout"
    elif isinstance(exc, httpx.ConnectError):
        kind = "connect"
    else:
        kind = "transport"
    return Outcome(call.task_id, time.perf_counter() - start, kind=kind, detail=type(exc).__name__)


def get(call: Call, timeout: float) -> Outcome:
    """The article's blocking call: `httpx.get`, which builds (and drops) a client each time."""
    start = time.perf_counter()
    try:
        response = httpx.get(call.url, params=call.params, timeout=timeout)
    except httpx.HTTPError as exc:
        return failed(call, exc, start)
    return received(call, response, start)
