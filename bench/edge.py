"""What the edge checks cost: CPU per request of the Host and size checks and of the strict
query parser, side by side with a whole request through Django's WSGI handler (the
backend's /api/ with delay=0), in one process, in interleaved rounds.

    make bench-edge        (about 30 s)

Figures are CPU time (time.process_time), medians over ROUNDS with their spread
((max - min) / median); the whole request (its access line not written) is measured with
the edge checks on and off.
"""

from __future__ import annotations

import io
import os
import platform
import statistics
import sys
import time
from importlib.metadata import version

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
os.environ.setdefault("DB", "none")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import logging  # noqa: E402

import django  # noqa: E402

django.setup()
# One access line per request would be most of what is measured, and the same with the
# checks on or off: measure the request without it.
logging.getLogger("asynclab.access").disabled = True

from django.core.handlers.wsgi import WSGIHandler, WSGIRequest  # noqa: E402

from asynclab import edge  # noqa: E402
from asynclab.query import Query  # noqa: E402
from backend import views  # noqa: E402

ROUNDS = 7
REQUESTS = 2000  # whole requests per round and variant
CALLS = 20000  # calls of one check per round
QUERY = "task_id=1&delay=0&fail=0&hang=0&invalid=0&drop=0&jitter=0"


def environ(query: str = "delay=0&task_id=1") -> dict:
    headers = {
        "HTTP_HOST": "127.0.0.1:8001",
        "HTTP_USER_AGENT": "bench",
        "HTTP_ACCEPT": "*/*",
        "HTTP_X_REQUEST_ID": "bench-1",
    }
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/api/",
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8001",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        **headers,
    }


def per_call(fn, count: int) -> float:
    start = time.process_time()
    for _ in range(count):
        fn()
    return (time.process_time() - start) / count


def whole_request(handler: WSGIHandler, checks: bool) -> float:
    real = edge.refuse
    if not checks:
        edge.refuse = lambda request: None
    try:
        return per_call(lambda: b"".join(handler(environ(), lambda status, headers: None)), REQUESTS)
    finally:
        edge.refuse = real


def summary(samples: list[float]) -> str:
    median = statistics.median(samples)
    return f"{median * 1e6:8.2f} µs  (spread {(max(samples) - min(samples)) / median:4.0%})"


def main() -> None:
    handler = WSGIHandler()
    request = WSGIRequest(environ())
    parse_short = lambda: views.parse(Query(WSGIRequest(environ()).GET))  # noqa: E731
    parse_full = lambda: views.parse(Query(WSGIRequest(environ(QUERY)).GET))  # noqa: E731
    build_only = lambda: WSGIRequest(environ(QUERY)).GET  # noqa: E731
    figures: dict[str, list[float]] = {
        name: []
        for name in (
            "request, checks on",
            "request, checks off",
            "edge.refuse (all checks)",
            "Host check alone",
            "build request + QueryDict (7 params)",
            "... + strict parse (2 params)",
            "... + strict parse (7 params)",
        )
    }
    whole_request(handler, True)  # warm: URLconf, views, middleware chain
    for _ in range(ROUNDS):
        figures["request, checks on"].append(whole_request(handler, True))
        figures["request, checks off"].append(whole_request(handler, False))
        figures["edge.refuse (all checks)"].append(per_call(lambda: edge.refuse(request), CALLS))
        figures["Host check alone"].append(per_call(request.get_host, CALLS))
        figures["build request + QueryDict (7 params)"].append(per_call(build_only, CALLS))
        figures["... + strict parse (2 params)"].append(per_call(parse_short, CALLS))
        figures["... + strict parse (7 params)"].append(per_call(parse_full, CALLS))
    print(
        f"edge bench: Python {platform.python_version()}, Django {version('django')}, {os.cpu_count()} cores; "
        f"{ROUNDS} interleaved rounds of {REQUESTS} requests / {CALLS} calls; CPU time per call"
    )
    for name, samples in figures.items():
        print(f"  {name:40} {summary(samples)}")
    on, off = (statistics.median(figures[name]) for name in ("request, checks on", "request, checks off"))
    refuse = statistics.median(figures["edge.refuse (all checks)"])
    parse = statistics.median(figures["... + strict parse (7 params)"]) - statistics.median(
        figures["build request + QueryDict (7 params)"]
    )
    print(
        f"edge checks: {refuse * 1e6:.1f} µs = {refuse / on:.1%} of a whole request ({on * 1e6:.0f} µs); "
        f"measured on - off: {(on - off) * 1e6:+.1f} µs"
    )
    print(
        f"strict parse of 7 parameters (beyond building the QueryDict): {parse * 1e6:.1f} µs"
        f" = {parse / on:.1%} of a request"
    )


if __name__ == "__main__":
    main()
