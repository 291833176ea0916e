"""The backend's server-sent event streams, live in both modes: every event, in order; a
mismatched generator buffered whole; the bounds; a client that leaves ends the generator."""

import json
import socket
import time

import pytest

from asynclab import api
from harness.live import get_json


def read_stream(url: str, timeout: float = 30) -> tuple[list[tuple[str, dict, float]], dict]:
    """Every event of a stream: (name, data, seconds from the request until it arrived)."""
    import urllib.request

    start = time.perf_counter()
    events, name = [], None
    with urllib.request.urlopen(url, timeout=timeout) as response:
        headers = {key.lower(): value for key, value in response.headers.items()}
        for raw in response:
            line = raw.decode().rstrip("\r\n")
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                events.append((name, json.loads(line[5:]), time.perf_counter() - start))
    return events, headers


def streamed_path(view: str, events: int, interval: float) -> str:
    return f"{api.BACKEND_STREAMS[view]}?events={events}&interval={interval}"


# (server mode, view) -> whether Django must consume the generator whole before sending.
MATCHED = [("asgi", "async"), ("wsgi", "sync")]
MISMATCHED = [("asgi", "sync"), ("wsgi", "async")]


@pytest.mark.parametrize(("mode", "view"), MATCHED + MISMATCHED)
def test_every_event_arrives_in_order_with_its_send_time(serve, mode, view):
    backend = serve("backend", mode)
    before = time.time()
    events, headers = read_stream(backend.url + streamed_path(view, 5, 0.05))
    assert headers["content-type"] == "text/event-stream"
    assert headers["x-accel-buffering"] == "no"
    ticks = [data for name, data, _ in events if name == "tick"]
    assert [tick["seq"] for tick in ticks] == [0, 1, 2, 3, 4]
    assert all(tick["view"] == view for tick in ticks)
    # Each is written when due or later, never before; the due times are the schedule.
    assert all(before <= tick["due"] <= tick["sent"] for tick in ticks)
    assert [round(b["due"] - a["due"], 6) for a, b in zip(ticks, ticks[1:], strict=False)] == [0.05] * 4
    assert events[-1][0] == "end" and events[-1][1]["events"] == 5


@pytest.mark.parametrize(("mode", "view"), MATCHED)
def test_a_matched_stream_sends_each_event_when_it_is_due(serve, mode, view):
    backend = serve("backend", mode)
    events, _ = read_stream(backend.url + streamed_path(view, 4, 1))
    arrivals = [at for name, _, at in events if name == "tick"]
    # Tick 0 at once; the last no sooner than 3 intervals later: not all at the end.
    assert arrivals[0] < 1.0
    assert arrivals[-1] >= 3.0


@pytest.mark.parametrize(("mode", "view"), MISMATCHED)
def test_a_mismatched_stream_is_buffered_whole(serve, mode, view):
    backend = serve("backend", mode)
    events, _ = read_stream(backend.url + streamed_path(view, 4, 0.5))
    # Django reads the whole generator before sending a byte: the first event arrives only
    # once the last one has been written, (events - 1) x interval after the stream opened.
    first = events[0][2]
    assert first >= 1.5
    ticks = [data for name, data, _ in events if name == "tick"]
    assert ticks[-1]["sent"] - ticks[0]["sent"] >= 1.5


@pytest.mark.parametrize("mode", ["asgi", "wsgi"])
@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("events=1000&interval=1", "events"),  # 1000 s: past STREAM_MAX_SECONDS (300)
        ("events=0", "events"),
        ("interval=61", "interval"),
        ("interval=.5", "interval"),
        ("events=5&events=6", "events"),
    ],
)
def test_bounds_give_a_400_naming_the_parameter(serve, mode, query, parameter):
    backend = serve("backend", mode)
    for path in api.BACKEND_STREAMS.values():
        status, body, _ = get_json(f"{backend.url}{path}?{query}")
        assert status == 400, body
        assert body["parameter"] == parameter
        assert body["error"] in ("bad_parameter", "repeated_parameter")


def test_the_length_cap_is_the_knob(serve):
    backend = serve("backend", "asgi", STREAM_MAX_SECONDS=2)
    status, body, _ = get_json(backend.url + streamed_path("async", 5, 0.5))
    assert status == 400 and "at most 2 s" in body["message"], body
    assert get_json(backend.url + "/streams")[0] == 200


def gauge(server) -> dict:
    status, body, _ = server.get(api.STREAMS_GAUGE)
    assert status == 200
    return body


def wait_for(server, open_streams: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        seen = gauge(server)
        if seen["open"] == open_streams or time.monotonic() > deadline:
            return seen
        time.sleep(0.05)


@pytest.mark.parametrize(("mode", "view"), MATCHED)
def test_a_client_that_leaves_ends_the_generator(serve, mode, view):
    backend = serve("backend", mode)
    before = gauge(backend)
    # A 60-event stream of 1 s each; the client reads its first event, then hangs up.
    with socket.create_connection(("127.0.0.1", backend.port), timeout=10) as sock:
        sock.sendall(f"GET {streamed_path(view, 60, 1)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        received = b""
        while b"data:" not in received:
            received += sock.recv(4096)
        assert wait_for(backend, 1, 5)["open"] == 1
    # ASGI: the disconnect cancels the generator at once. WSGI: the server closes it when a
    # write fails, at its next event or the one after (1 s apart), not at the stream's end.
    after = wait_for(backend, 0, 5)
    assert after["open"] == 0
    assert after["disconnected"] == before["disconnected"] + 1
    assert after["completed"] == before["completed"]
