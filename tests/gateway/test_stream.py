"""The gateway's aggregation as a stream, live against a live backend: one event per call
as it completes, then a summary; the gather's limits; a client that leaves ends it."""

import socket
import time

import pytest

from asynclab import api
from harness.live import get_json
from tests.backend.test_streams import read_stream, wait_for


@pytest.fixture(params=["asgi", "wsgi"])
def stack(request, serve):
    backend = serve("backend", "asgi")
    return request.param, serve("gateway", request.param, BACKEND_URL=backend.url, GATEWAY_MAX_CALLS=100)


def test_n_call_events_then_a_summary(stack):
    mode, gateway = stack
    events, headers = read_stream(gateway.url + api.GATEWAY_STREAM + "?n=4&delay=0.2&target=async")
    assert headers["content-type"] == "text/event-stream"
    names = [name for name, _, _ in events]
    assert names == ["call"] * 4 + ["summary"]
    calls = [data for name, data, _ in events if name == "call"]
    assert [call["seq"] for call in calls] == [0, 1, 2, 3]
    assert sorted(call["task_id"] for call in calls) == [0, 1, 2, 3]
    assert all(call["ok"] and call["body"]["message"] == "Hello Async World!" for call in calls)
    summary = events[-1][1]
    assert (summary["n"], summary["ok"], summary["failed"], summary["errors"]) == (4, 4, 0, [])
    assert summary["strategy"] == "stream" and summary["seq"] == 4


def test_under_asgi_each_call_arrives_when_it_completes(serve):
    backend = serve("backend", "asgi")
    gateway = serve("gateway", "asgi", BACKEND_URL=backend.url)
    # One call at a time, 0.5 s each: the first event long before the last.
    events, _ = read_stream(gateway.url + api.GATEWAY_STREAM + "?n=3&delay=0.5&target=async&concurrency=1")
    arrivals = [at for name, _, at in events if name == "call"]
    assert arrivals[-1] - arrivals[0] >= 0.9


def test_under_wsgi_the_async_generator_arrives_whole(serve):
    backend = serve("backend", "asgi")
    gateway = serve("gateway", "wsgi", BACKEND_URL=backend.url)
    events, _ = read_stream(gateway.url + api.GATEWAY_STREAM + "?n=3&delay=0.5&target=async&concurrency=1")
    # Collected through async_to_sync first: nothing arrives before every call is done.
    assert events[0][2] >= 1.5


def test_failed_calls_are_events_and_the_summary_counts_them(stack):
    _, gateway = stack
    events, _ = read_stream(gateway.url + api.GATEWAY_STREAM + "?n=10&delay=0&target=async&fail=0.1")
    failed = [data for name, data, _ in events if name == "call" and not data["ok"]]
    assert [(call["task_id"], call["kind"]) for call in failed] == [(9, "status")]
    assert events[-1][1]["failed"] == 1 and events[-1][1]["ok"] == 9


@pytest.mark.parametrize(
    ("query", "status", "parameter"),
    [("n=101", 400, "n"), ("target=elsewhere", 400, "target"), ("events=3", 400, "events"), ("n=0", 400, "n")],
)
def test_same_limits_as_the_gather(stack, query, status, parameter):
    _, gateway = stack
    code, body, _ = get_json(gateway.url + api.GATEWAY_STREAM + "?" + query)
    assert code == status and body["parameter"] == parameter, body


def test_a_full_budget_is_a_503_before_the_stream_starts(stack):
    _, gateway = stack
    # A budget of 100 calls: with one stream holding 60 of them, a fan-out of 50 does not fit.
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(f"GET {api.GATEWAY_STREAM}?n=60&delay=3&target=async HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        time.sleep(0.5)
        code, body, headers = get_json(gateway.url + api.GATEWAY_STREAM + "?n=50&delay=0&target=async")
        assert code == 503 and body["error"] == "over_capacity", body
        assert headers["Retry-After"] == "1"


def test_a_client_that_leaves_under_asgi_cancels_the_calls(serve):
    backend = serve("backend", "asgi")
    gateway = serve("gateway", "asgi", BACKEND_URL=backend.url, GATEWAY_MAX_CALLS=100)
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        query = "n=5&delay=20&target=async&concurrency=1"
        sock.sendall(f"GET {api.GATEWAY_STREAM}?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        assert wait_for(gateway, 1, 5)["open"] == 1
    assert wait_for(gateway, 0, 5)["open"] == 0
    # The budget is whole again: a fan-out of all 100 calls fits.
    code, body, _ = get_json(gateway.url + api.STRATEGIES["gather"] + "?n=100&delay=0&target=async")
    assert code == 200 and not body["errors"], body
