"""LEAN=true through live servers: what it strips (threads per request in flight) and what
it keeps (the database endpoints, connections closed on the request's thread, JSON errors,
access lines); and the guard that its copied methods still match Django's and asgiref's."""

import hashlib
import inspect
import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler

from tests.backend.rows import ENDPOINTS, check_rows

# asynclab/handler.py copies these and changes a few lines: when Django or asgiref change
# them, the copy must be looked at again (and these hashes updated).
COPIED = {
    (ASGIHandler, "__call__"): "f756809e9c9308dc",
    (ASGIHandler, "handle"): "98faeb5bef800331",
    (BaseHandler, "get_response_async"): "ad82c920df0cebbb",
    (ThreadSensitiveContext, "__aexit__"): "5571fec562fa6e84",
}


@pytest.mark.parametrize(("owner", "name"), list(COPIED))
def test_the_methods_lean_copies_are_still_the_ones_it_copied(owner, name):
    source = inspect.getsource(getattr(owner, name))
    assert hashlib.sha256(source.encode()).hexdigest()[:16] == COPIED[(owner, name)], (
        f"{owner.__qualname__}.{name} changed: compare it with asynclab/handler.py"
    )


def fetch(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error)


def threads_while_busy(server, concurrency: int = 30, delay: float = 0.8) -> int:
    """Threads of the server while `concurrency` async-view requests of `delay` s are in flight."""
    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(fetch, f"{server.url}/api/async/?delay={delay}") for _ in range(concurrency)]
        time.sleep(delay / 2)
        busy = server.get("/telemetry")[1]["total"]
        assert all(future.result()[0] == 200 for future in futures)
    assert busy["in_flight"]["now"] == concurrency
    return busy["threads"]["now"]


def test_lean_async_requests_in_flight_hold_no_thread_while_the_database_stays(serve):
    shipped = serve("backend", "asgi")
    lean = serve("backend", "asgi", LEAN="true")
    # Both keep the database (and so Django's receivers on request_finished).
    assert shipped.get("/healthz")[1]["database"]["engine"] == "sqlite3"
    assert lean.get("/healthz")[1]["database"]["engine"] == "sqlite3"
    assert threads_while_busy(shipped) >= 30
    assert threads_while_busy(lean) < 15
    assert (
        '"event": "lean"' in lean.log()
        and '"request_started_detached": ["reset_queries", "close_old_connections"]' in (lean.log())
    )
    assert '"event": "lean"' not in shipped.log()
    assert (lean.get("/healthz")[1]["lean"], shipped.get("/healthz")[1]["lean"]) == (True, False)


def test_lean_database_endpoints_answer_and_close_their_connections_on_the_requests_thread(serve):
    lean = serve("backend", "asgi", LEAN="true")
    for view, path in ENDPOINTS.items():
        status, body = fetch(f"{lean.url}{path}?{urlencode({'delay': 0, 'rows': 2})}")
        assert status == 200, body
        check_rows(body, view, 2)
    # As Django does: the request's own thread gets a new connection each request (the old
    # one closed at request_finished); the loop's default executor keeps its one open.
    own = [fetch(f"{lean.url}/api/db/adapter/?delay=0&thread_sensitive=true")[1] for _ in range(3)]
    executor = [fetch(f"{lean.url}/api/db/adapter/?delay=0&thread_sensitive=false")[1] for _ in range(3)]
    assert len({body["connection"] for body in own}) == 3
    assert len({body["connection"] for body in executor}) == 1


def test_lean_keeps_json_errors_request_ids_and_access_lines(serve):
    lean = serve("backend", "asgi", LEAN="true")
    status, body = fetch(f"{lean.url}/api/async/?delay=abc")
    assert (status, body["error"], body["parameter"]) == (400, "bad_parameter", "delay")
    status, body = fetch(f"{lean.url}/nowhere")
    assert (status, body["error"]) == (404, "not_found")
    request = urllib.request.Request(f"{lean.url}/api/async/?delay=0", headers={"X-Request-ID": "lean-1"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["X-Request-ID"] == "lean-1" and "app;dur=" in response.headers["Server-Timing"]
    time.sleep(0.2)
    lines = [json.loads(line) for line in lean.log().splitlines() if line.startswith('{"time"')]
    access = [line for line in lines if line["event"] == "access"]
    assert [(line["path"], line["status"]) for line in access if line["path"] != "/healthz"] == [
        ("/api/async/", 400),
        ("/nowhere", 404),
        ("/api/async/", 200),
    ]
    assert access[-1]["request_id"] == "lean-1"
    # Django's own "Bad Request: /api/async/" records are dropped, as without LEAN.
    assert not [line for line in lines if line["event"] == "log" and line.get("logger") == "django.request"]


def test_lean_under_wsgi_changes_nothing(serve):
    # The lean handler is an ASGI handler: gunicorn's WSGI handler is Django's as shipped.
    server = serve("backend", "wsgi", LEAN="true")
    assert fetch(f"{server.url}/api/async/?delay=0")[0] == 200
    assert '"event": "lean"' not in server.log()


def test_lean_with_django31_threads_keeps_the_receivers_and_the_shared_thread(serve):
    # Every sync view on one long-lived thread: its connections outlive a request, so
    # request_started's receivers have something to close and stay connected.
    server = serve("backend", "asgi", LEAN="true", DJANGO31_THREADS="true")
    assert '"request_started_detached": []' in server.log()
    threads = {fetch(f"{server.url}/api/db/?delay=0")[1]["thread"] for _ in range(3)}
    assert len(threads) == 1 and threads.pop().startswith("django31")
