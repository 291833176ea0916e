"""DJANGO31_THREADS: Django 3.1's one thread for every sync view, on demand, under ASGI;
current Django's thread per request without it. Live uvicorn servers, real sockets."""

import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest


def concurrent_wall(server, path, count=4):
    started = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        statuses = list(pool.map(lambda i: server.get(f"{path}&task_id={i}")[0], range(count)))
    assert statuses == [200] * count
    return time.perf_counter() - started


@pytest.mark.parametrize("knob", ["on", "off"])
def test_the_knob_serialises_sync_views_and_only_sync_views(serve, knob):
    backend = serve("backend", "asgi", DJANGO31_THREADS=knob)
    assert backend.get("/healthz")[1]["django31_threads"] is (knob == "on")
    sync_wall = concurrent_wall(backend, "/api/?delay=0.3")
    async_wall = concurrent_wall(backend, "/api/async/?delay=0.3")
    # Four 0.3 s views one after another take at least 1.2 s; overlapping, well under it
    # (a ratio of that, not a figure that depends on this machine's speed).
    serial = 4 * 0.3
    if knob == "on":
        assert sync_wall >= serial, "one thread: four 0.3 s sync views take 1.2 s"
    else:
        assert sync_wall < 0.75 * serial, "a thread per request: they overlap"
    assert async_wall < 0.75 * serial, "async views never needed the thread"


def test_the_article_timeout_comes_back_with_the_knob(serve):
    backend = serve("backend", "asgi", DJANGO31_THREADS="on")
    gateway = serve("gateway", "asgi", BACKEND_URL=backend.url)
    query = urlencode({"n": 4, "delay": 0.5, "timeout": 1.2, "target": "sync", "client": "article"})
    status, body, _ = gateway.get(f"/api/aggregated/?{query}")
    # Calls queue for the one thread: about two fit in 1.2 s, the later ones time out.
    assert status == 200 and 1 <= len(body["responses"]) <= 2
    assert len(body["responses"]) + len(body["errors"]) == 4
    assert {e["kind"] for e in body["errors"]} == {"timeout"}
