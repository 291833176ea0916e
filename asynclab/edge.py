"""What every request must pass before any view runs: the lab's size limits and its Host check.

The limits live here once. The servers' own parsers get limits derived from them
(`server_limits`), set above the lab's, so a request the lab refuses reaches the lab and
gets its JSON 414/431 in every mode; only a request past the server's own limits (or one its
HTTP parser cannot read) is answered by the server itself, as docs/edge.md lists.

Django checks Host only when something calls `request.get_host()`, usually
CommonMiddleware, which the lab leaves out (it would add to every timing). Without a check
a web page could make a browser drive the gateway's fan-out through DNS rebinding, which
is what ALLOWED_HOSTS exists to stop; so the check is made here, for every request.
"""

from __future__ import annotations

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

from .http import json_error

# The request target (path and query, as sent), in bytes.
MAX_TARGET = 2048
# Header fields as Django sees them (a repeated field folds into one), and their bytes
# (names plus values).
MAX_HEADERS = 64
MAX_HEADER_BYTES = 8192


def server_limits() -> dict[str, int]:
    """The servers' own limits: twice the lab's, so the lab's act first. A request line
    holds the method and version around the target; a header line, a name and ': '."""
    return {
        "request_line": 2 * MAX_TARGET,
        "header_fields": 2 * MAX_HEADERS,
        "header_field_bytes": 2 * MAX_HEADER_BYTES,
    }


def target_length(request: HttpRequest) -> int:
    """The target's length as the client sent it (percent-escapes and all), where the
    server hands it over; else as Django writes it back (runserver)."""
    scope = getattr(request, "scope", None)
    if scope is not None:  # ASGI: uvicorn's raw_path is the path as sent, without the query
        path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"")
        return len(path) + (1 + len(query) if query else 0)
    raw = request.META.get("RAW_URI")  # gunicorn
    return len(raw) if raw else len(request.get_full_path())


def refuse(request: HttpRequest) -> HttpResponse | None:
    """A JSON 414, 431 or 400 for a request the lab does not accept; None for the rest."""
    length = target_length(request)
    if length > MAX_TARGET:
        return json_error(414, "uri_too_long", f"the path and query are {length} bytes; at most {MAX_TARGET}")
    headers = request.headers
    if len(headers) > MAX_HEADERS:
        return json_error(431, "headers_too_large", f"{len(headers)} header fields; at most {MAX_HEADERS}")
    size = sum(len(name) + len(value) for name, value in headers.items())
    if size > MAX_HEADER_BYTES:
        return json_error(431, "headers_too_large", f"the headers are {size} bytes; at most {MAX_HEADER_BYTES}")
    try:
        request.get_host()
    except DisallowedHost:
        host = request.META.get("HTTP_HOST", "")
        return json_error(
            400,
            "disallowed_host",
            f"Host {host[:100]!r} is not one this service answers to (ALLOWED_HOSTS)",
            host=host[:100],
        )
    return None
