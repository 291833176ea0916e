"""Thread hops per request, counted inside live servers by the bench's hop counter
(bench/hops/sitecustomize.py on the server's PYTHONPATH): what Django's ASGI handler does
per request, that the lab adds nothing to it, and what LEAN=true leaves."""

import json
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from harness.live import ROOT

HOOK = ROOT / "bench" / "hops"
ASEND = "sync_to_async: django.dispatch.dispatcher.Signal.asend.<locals>.sync_send [thread_sensitive]"
CLOSE = "sync_to_async: django.http.response.HttpResponseBase.close [thread_sensitive]"
SYNC_VIEW = "sync_to_async: backend.views.sync_api [thread_sensitive]"
ASYNC_VIEW, SYNC_PATH = "/api/async/?delay=0", "/api/?delay=0"


@pytest.fixture
def counted(serve, tmp_path):
    def start(**env):
        folder = tmp_path / f"hops-{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        server = serve("backend", "asgi", PYTHONPATH=f"{HOOK}:{ROOT}", ASGI_TAX_HOPS_DIR=folder, **env)
        server.hops = folder
        return server

    return start


def counts(folder: Path) -> Counter:
    found: Counter = Counter()
    for path in folder.glob("*.json"):
        data = json.loads(path.read_text())
        for kind in ("sync_to_async", "async_to_sync"):
            found.update({f"{kind}: {key}": value for key, value in data[kind].items()})
        found.update({f"thread: {key}": value for key, value in data["threads"].items()})
    return found


def per_request(server, path: str, n: int = 5) -> dict[str, float]:
    """The hops and threads of `n` sequential requests to `path`, per request."""
    for _ in range(2):  # first-request work is not per request
        urllib.request.urlopen(server.url + path, timeout=10).read()
    time.sleep(0.3)
    before = counts(server.hops)
    for _ in range(n):
        with urllib.request.urlopen(server.url + path, timeout=10) as response:
            assert response.status == 200
    time.sleep(0.3)  # a request's tail (the response's close, the thread's join) runs after its answer
    return {key: value / n for key, value in (counts(server.hops) - before).items()}


def hops(found: dict[str, float]) -> dict[str, float]:
    return {key: value for key, value in found.items() if not key.startswith("thread: ")}


def threads(found: dict[str, float]) -> float:
    return sum(value for key, value in found.items() if key.startswith("thread: "))


def test_djangos_asgi_handler_hops_twice_per_async_request_and_the_lab_adds_nothing(counted):
    found = per_request(counted(), ASYNC_VIEW)
    # request_started's database receivers, then response.close(): one thread for the
    # request, started for the first (asgiref also starts one to join it at the end).
    assert hops(found) == {ASEND: 1, CLOSE: 1}
    assert threads(found) >= 1


def test_a_sync_view_adds_its_own_hop_on_the_same_thread(counted):
    found = per_request(counted(), SYNC_PATH)
    assert hops(found) == {ASEND: 1, SYNC_VIEW: 1, CLOSE: 1}


def test_lean_async_requests_make_no_hop_and_start_no_thread(counted):
    found = per_request(counted(LEAN="true"), ASYNC_VIEW)
    assert found == {}


def test_lean_sync_requests_hop_only_for_the_view_and_its_close_on_one_thread(counted):
    found = per_request(counted(LEAN="true"), SYNC_PATH)
    assert hops(found) == {SYNC_VIEW: 1, CLOSE: 1}
    assert found["thread: concurrent.futures.thread._worker"] == 1 and threads(found) == 1


def refused(server, n: int = 3) -> Counter:
    """The hops of `n` requests the lab refuses with a JSON 400 (a bad ?delay=)."""
    before = counts(server.hops)
    for _ in range(n):
        try:
            urllib.request.urlopen(server.url + "/api/async/?delay=abc", timeout=10)
        except urllib.error.HTTPError as error:
            assert error.code == 400 and json.load(error)["parameter"] == "delay"
    time.sleep(0.3)
    return counts(server.hops) - before


def test_lean_refusals_skip_djangos_log_response_hop(counted):
    # A 400 is logged by the lab's access line; Django's log_response would hop to the loop's
    # executor only to return at once.
    assert refused(counted(LEAN="true")) == Counter()
    assert refused(counted())["sync_to_async: django.utils.log.log_response [executor]"] == 3
