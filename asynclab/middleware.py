"""The article's timing middleware, done so that it costs nothing it measures.

It is both sync and async capable, so Django runs it in whichever mode the handler is in
and never wraps it (or the view behind it) in a sync_to_async / async_to_sync adapter:
an adapter would add a thread hop or an event loop to exactly the timings the lab reports.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

from .http import ApiResponse


def stamp(response: HttpResponse, start: float) -> HttpResponse:
    """Add the server-side handling time to the response: header always, JSON field when JSON."""
    elapsed = time.perf_counter() - start
    response["Server-Timing"] = f"app;dur={elapsed * 1000:.3f}"
    if isinstance(response, ApiResponse):
        response.update(elapsed=round(elapsed, 6))
    elif not response.streaming and response.get("Content-Type", "").startswith("application/json"):
        # Someone else's JSON (not built by the lab): the article's parse-and-rewrite.
        try:
            data = json.loads(response.content)
        except ValueError:
            return response
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
            start = time.perf_counter()
            response = await get_response(request)  # type: ignore[misc]
            return stamp(response, start)

        return async_middleware

    def sync_middleware(request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        return stamp(get_response(request), start)  # type: ignore[arg-type]

    return sync_middleware
