"""The four fan-out strategies against a live backend process, over real sockets.

Timing checks are about shape (one delay vs n delays), with wide margins: absolute speed
is for the benchmarks, not for tests.
"""

from urllib.parse import urlencode

import pytest

from asynclab.api import STRATEGIES
from harness.live import LiveServer, free_port

N, DELAY = 6, 0.4
SERIAL = N * DELAY

# What each strategy's answer greets with (the article's messages).
MESSAGES = {
    "gather": "Hello Async World!",
    "sequential": "Hello Sync World!",
    "threadpool": "Hello Threadpool World!",
    "async-to-sync": "Hello async_to_sync World!",
}


@pytest.fixture(scope="module")
def backend():
    server = LiveServer("backend", "wsgi", THREADS=N).start()
    yield server
    server.stop()


@pytest.fixture(scope="module", params=["wsgi", "asgi"])
def gateway(request, backend):
    server = LiveServer("gateway", request.param, BACKEND_URL=backend.url).start()
    yield server
    server.stop()


def aggregate(gateway, strategy, **query):
    status, body, headers = gateway.get(STRATEGIES[strategy] + "?" + urlencode(query))
    return status, body


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_returns_n_responses_in_task_order(gateway, strategy):
    status, body = aggregate(gateway, strategy, n=N, delay=0)
    assert status == 200
    assert (body["strategy"], body["message"], body["n"], body["target"]) == (strategy, MESSAGES[strategy], N, "sync")
    assert [r["task_id"] for r in body["responses"]] == [str(i) for i in range(N)]
    assert {r["message"] for r in body["responses"]} == {"Hello World!"}
    assert body["errors"] == []
    assert body["debug_message"] == f"fetch executed in {body['fetch_elapsed']:0.2f} seconds."
    assert body["elapsed"] >= body["fetch_elapsed"]


@pytest.mark.parametrize("strategy", ["gather", "threadpool", "async-to-sync"])
def test_concurrent_strategies_wait_about_one_delay(gateway, strategy):
    status, body = aggregate(gateway, strategy, n=N, delay=DELAY)
    assert status == 200 and len(body["responses"]) == N
    assert DELAY <= body["fetch_elapsed"] < SERIAL / 2


def test_sequential_waits_n_delays(gateway):
    status, body = aggregate(gateway, "sequential", n=N, delay=DELAY)
    assert status == 200 and len(body["responses"]) == N
    assert body["fetch_elapsed"] >= SERIAL


def test_target_async_calls_the_async_view(gateway):
    _, body = aggregate(gateway, "gather", n=2, delay=0, target="async")
    assert [r["message"] for r in body["responses"]] == ["Hello Async World!"] * 2


@pytest.mark.parametrize(
    ("target", "view", "thread_sensitive"),
    [
        ("db", "sync", None),
        ("db-async", "async", None),
        ("db-adapter", "adapter", True),
        ("db-adapter-executor", "adapter", False),
    ],
)
def test_db_targets_read_the_backends_database(gateway, target, view, thread_sensitive):
    status, body = aggregate(gateway, "gather", n=3, delay=0.1, target=target)
    assert (status, body["target"], len(body["responses"])) == (200, target, 3), body
    for response in body["responses"]:
        assert (response["view"], response["count"], response["slept"]) == (view, 100, 1)
        assert response["db_elapsed"] >= 0.1
        assert response.get("thread_sensitive") == thread_sensitive


def test_default_fan_out_is_ten(gateway):
    _, body = aggregate(gateway, "gather", delay=0)
    assert body["n"] == 10 and len(body["responses"]) == 10


def test_client_cannot_choose_where_the_gateway_calls(gateway, backend):
    # Not a parameter at all: refused by name before any call is made.
    for name in ("url", "backend"):
        status, body = aggregate(gateway, "gather", n=1, delay=0, **{name: "http://127.0.0.2:1/"})
        assert (status, body["error"], body["parameter"]) == (400, "unknown_parameter", name)
        assert "target" in body["parameters"] and name not in body["parameters"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"n": "0"}, "n"),
        ({"n": "101"}, "n"),
        ({"n": "ten"}, "n"),
        ({"target": "http://127.0.0.2/"}, "target"),
        ({"delay": "31"}, "delay"),
        ({"delay": "-1"}, "delay"),
        ({"timeout": "0"}, "timeout"),
        ({"timeout": "61"}, "timeout"),
        ({"timeout": "inf"}, "timeout"),
    ],
)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_bad_input_is_a_400_naming_the_parameter(gateway, strategy, query, parameter):
    status, body = aggregate(gateway, strategy, **query)
    assert status == 400
    assert (body["error"], body["parameter"]) == ("bad_parameter", parameter)


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_a_stopped_backend_gives_per_call_errors_not_a_500(serve, mode):
    gateway = serve("gateway", mode, BACKEND_URL=f"http://127.0.0.1:{free_port()}")
    for strategy in STRATEGIES:
        status, body = aggregate(gateway, strategy, n=3, delay=0)
        assert status == 502, body
        assert body["responses"] == []
        assert [(e["task_id"], e["kind"]) for e in body["errors"]] == [(0, "connect"), (1, "connect"), (2, "connect")]
        assert all(e["elapsed"] >= 0 for e in body["errors"])


def test_a_single_threaded_backend_times_out_the_later_calls(serve):
    # The article's "timeout" setup: one thread serves the calls one after another, so
    # the later ones outlive the per-call timeout; the earlier ones still come back.
    backend = serve("backend", "wsgi", THREADS=1)
    gateway = serve("gateway", "asgi", BACKEND_URL=backend.url)
    status, body = aggregate(gateway, "gather", n=4, delay=0.3, timeout=0.75)
    assert status == 200, body
    assert len(body["responses"]) >= 1 and len(body["errors"]) >= 1
    assert len(body["responses"]) + len(body["errors"]) == 4
    assert {e["kind"] for e in body["errors"]} == {"timeout"}
    # uvloop's timers tick in whole milliseconds and may fire up to one early (0.7497 s seen).
    assert all(e["elapsed"] >= 0.75 - 0.005 for e in body["errors"]), body["errors"]


def test_asgi_runs_concurrent_sync_views_on_separate_threads(serve):
    # The article (Django 3.1): one uvicorn worker runs sync views one at a time, so ten
    # 1 s calls time out. Since Django 3.2 each request gets its own thread: ~one delay.
    backend = serve("backend", "asgi")
    gateway = serve("gateway", "asgi", BACKEND_URL=backend.url)
    status, body = aggregate(gateway, "gather", n=N, delay=DELAY, target="sync")
    assert status == 200 and body["errors"] == []
    assert body["fetch_elapsed"] < SERIAL / 2
