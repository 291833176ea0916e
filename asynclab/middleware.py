"""The lab's one middleware: the edge checks, request id, timing, access line and in-flight counters.

It is both sync and async capable, so Django runs it in whichever mode the handler is in
and never wraps it (or the view behind it) in a sync_to_async / async_to_sync adapter:
an adapter would add a thread hop or an event loop to exactly the timings the lab reports.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

from . import edge, logs, requestid, telemetry, timing
from .compat import iscoroutinefunction
from .http import ApiResponse

# What the access line says when the client went away and Django cancelled the view (ASGI).
CLIENT_CLOSED = 499


class Visit:
    """One request's passage through the middleware."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.start = time.perf_counter()
        self.id, self.client_id = requestid.accept(request.headers.get(requestid.HEADER))
        request.request_id = self.id  # the gateway passes it on to the backend
        self._token = requestid.current.set(self.id)
        self.counted = request.path not in telemetry.UNCOUNTED
        if self.counted:
            telemetry.worker().enter()

    def finish(self, response: HttpResponse | None, missing: int = CLIENT_CLOSED) -> HttpResponse | None:
        elapsed = time.perf_counter() - self.start
        try:
            extra = {}
            if response is not None:
                stamp(response, elapsed)
                response[requestid.HEADER] = self.id
                extra = getattr(response, "log_fields", {})
                # The access line is this response's log: Django's log_response would write a
                # record for any 4xx/5xx that the lab's logging drops anyway (it keeps only
                # tracebacks, and a response from an exception is marked already). Marked, it
                # returns at once, and the lean handler skips the thread hop to it.
                response._has_been_logged = True
            logs.access(
                logs.access_line(
                    method=self.request.method or "",
                    path=self.request.path,
                    query=self.request.META.get("QUERY_STRING", ""),
                    status=missing if response is None else response.status_code,
                    elapsed=elapsed,
                    request_id=self.id,
                    client_id=self.client_id,
                    **extra,
                )
            )
        finally:
            if self.counted:
                telemetry.worker().leave()
            requestid.current.reset(self._token)
        return response


def stamp(response: HttpResponse, elapsed: float) -> HttpResponse:
    """Add the handling time: Server-Timing always (plus the view's own metrics), JSON field when JSON."""
    response[timing.HEADER] = timing.header({"app": elapsed, **getattr(response, "timings", {})})
    if isinstance(response, ApiResponse):
        response.update(elapsed=round(elapsed, 6))
    elif not response.streaming and response.get("Content-Type", "").startswith("application/json"):
        # Someone else's JSON (not built by the lab): the article's parse-and-rewrite.
        try:
            data = json.loads(response.content)
        except ValueError:
            data = None
        if isinstance(data, dict):
            data["elapsed"] = round(elapsed, 6)
            response.content = json.dumps(data)
    if not response.streaming:
        # What CommonMiddleware would do: without a length the servers send the body
        # chunked, in several small writes.
        response["Content-Length"] = str(len(response.content))
    return response


@sync_and_async_middleware
def timing_middleware(
    get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]],
) -> Callable[[HttpRequest], object]:
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponse:
            # Only under ASGI is this the server's own event loop, worth watching for lag.
            telemetry.worker().watch_loop()
            visit = Visit(request)
            try:
                response = edge.refuse(request) or await get_response(request)  # type: ignore[misc]
            except asyncio.CancelledError:
                visit.finish(None)
                raise
            return visit.finish(response)  # type: ignore[return-value]

        return async_middleware

    def sync_middleware(request: HttpRequest) -> HttpResponse:
        visit = Visit(request)
        response = None
        try:
            response = edge.refuse(request) or get_response(request)  # type: ignore[assignment]
        finally:
            # Django turns view exceptions into responses before they reach us; anything
            # else still has to leave the in-flight count right.
            visit.finish(response, missing=500)
        return response  # type: ignore[return-value]

    return sync_middleware
