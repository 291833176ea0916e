"""One backend call and what came of it.

A failed call is an Outcome with an error kind, never an exception that escapes the view:
the gateway answers with whatever its calls produced.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from asynclab import requestid, timing


@dataclass(frozen=True)
class Call:
    task_id: int
    url: str
    params: dict[str, Any] = field(default_factory=dict)
    request_id: str | None = None  # "<client request id>.<task_id>", for the backend's log

    @property
    def headers(self) -> dict[str, str]:
        return {requestid.HEADER: self.request_id} if self.request_id else {}


@dataclass(frozen=True)
class Outcome:
    task_id: int
    elapsed: float
    body: dict[str, Any] | None = None
    kind: str | None = None  # timeout | connect | transport | status | invalid_body | deadline
    detail: str | None = None
    handler: float | None = None  # the backend's own handler time (its Server-Timing)

    @property
    def ok(self) -> bool:
        return self.kind is None

    def error(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "kind": self.kind, "detail": self.detail, "elapsed": round(self.elapsed, 6)}


def answered(call: Call, status: int, server_timing: str | None, content: bytes, start: float) -> Outcome:
    """What an answer from the backend amounts to, whichever HTTP client got it."""
    elapsed = time.perf_counter() - start
    handler = timing.parse(server_timing).get("app")
    if status != 200:
        return Outcome(call.task_id, elapsed, kind="status", detail=f"HTTP {status}", handler=handler)
    try:
        body = json.loads(content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return Outcome(
            call.task_id, elapsed, kind="invalid_body", detail="response is not a JSON object", handler=handler
        )
    return Outcome(call.task_id, elapsed, body=body, handler=handler)


def received(call: Call, response: httpx.Response, start: float) -> Outcome:
    return answered(call, response.status_code, response.headers.get(timing.HEADER), response.content, start)


def never_ran(call: Call, kind: str, detail: str) -> Outcome:
    """A call the gateway gave up on before it answered: past the deadline, or cancelled."""
    return Outcome(call.task_id, 0.0, kind=kind, detail=detail)


def not_started(call: Call) -> Outcome:
    """A call the budget did not let start: past the deadline, or given back at its end."""
    return never_ran(call, "deadline", "not started: past the deadline")


def failed(call: Call, exc: httpx.HTTPError, start: float) -> Outcome:
    if isinstance(exc, httpx.TimeoutException):
        kind = "timeout"
    elif isinstance(exc, httpx.ConnectError):
        kind = "connect"
    else:
        kind = "transport"
    return Outcome(call.task_id, time.perf_counter() - start, kind=kind, detail=type(exc).__name__)


def get(call: Call, timeout: float, client: httpx.Client | None = None, **options: Any) -> Outcome:
    """One blocking call: on `client` when given, else the article's `httpx.get`, which
    builds (and drops) a client, and so a TLS context, each time."""
    start = time.perf_counter()
    try:
        if client is None:
            response = httpx.get(call.url, params=call.params, headers=call.headers, timeout=timeout, **options)
        else:
            response = client.get(call.url, params=call.params, headers=call.headers, timeout=timeout)
    except httpx.HTTPError as exc:
        return failed(call, exc, start)
    return received(call, response, start)


async def get_async(client: httpx.AsyncClient, call: Call, timeout: float) -> Outcome:
    start = time.perf_counter()
    try:
        response = await client.get(call.url, params=call.params, headers=call.headers, timeout=timeout)
    except httpx.HTTPError as exc:
        return failed(call, exc, start)
    return received(call, response, start)
