"""Following one request through both services, and what /telemetry says about them,
against live servers (backend with two workers, so "every worker" is tested too)."""

import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from asynclab import timing
from asynclab.api import STRATEGIES
from harness.live import LiveServer


def request(url, request_id=None):
    headers = {"X-Request-ID": request_id} if request_id else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
        return response.status, json.load(response), response.headers


def access_lines(server, request_id):
    lines = [
        json.loads(line) for line in server.log().splitlines() if line.startswith("{") and '"event": "access"' in line
    ]
    return [line for line in lines if line["request_id"].split(".")[0] == request_id]


@pytest.fixture(scope="module", params=["wsgi", "asgi"])
def stack(request):
    threads = {"THREADS": 8} if request.param == "wsgi" else {}  # uvicorn has no thread knob
    backend = LiveServer("backend", request.param, WORKERS=2, **threads).start()
    gateway = LiveServer("gateway", request.param, BACKEND_URL=backend.url).start()
    yield request.param, backend, gateway
    gateway.stop()
    backend.stop()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_one_request_is_one_gateway_line_and_n_backend_lines_with_its_id(stack, strategy):
    mode, backend, gateway = stack
    request_id = f"trace-{mode}-{strategy}"
    status, body, headers = request(f"{gateway.url}{STRATEGIES[strategy]}?n=4&delay=0.1", request_id)
    assert status == 200 and headers["X-Request-ID"] == request_id
    time.sleep(0.2)  # the backend's lines are written before its answers, but be safe

    [line] = access_lines(gateway, request_id)
    assert (line["service"], line["mode"], line["status"], line["path"]) == ("gateway", mode, 200, STRATEGIES[strategy])
    assert line["calls"]["n"] == 4 and line["calls"]["ok"] == 4 and line["calls"]["failed"] == 0
    calls = access_lines(backend, request_id)
    assert sorted(c["request_id"] for c in calls) == [f"{request_id}.{i}" for i in range(4)]
    assert all(c["service"] == "backend" and c["status"] == 200 and c["elapsed_ms"] >= 100 for c in calls)

    # Where the time went, from the gateway's Server-Timing: each part inside the last.
    metrics = timing.parse(headers["Server-Timing"])
    assert metrics["app"] >= metrics["fanout"] >= metrics["call"] > 0.1
    # Lower bounds only: a sleep of d takes at least d. How much more is this machine's
    # speed (bench/first_requests.py prints it), except that a concurrent fan-out of 4
    # calls of 0.1 s must beat the 0.4 s four sequential calls cannot go below.
    assert metrics["backend"] >= (0.4 if strategy == "sequential" else 0.1)
    if strategy != "sequential":
        assert metrics["fanout"] < 4 * 0.1
    assert metrics["app"] == pytest.approx(line["elapsed_ms"] / 1000, abs=1e-5)


def test_the_servers_write_no_access_lines_of_their_own(stack):
    _, backend, gateway = stack
    request(f"{gateway.url}/api/aggregated/?n=2&delay=0")
    assert backend.get("/nope/")[0] == 404 and backend.get("/api/?delay=x")[0] == 400
    time.sleep(0.2)
    for server in (backend, gateway):
        log = server.log().splitlines()
        assert [line for line in log if "GET " in line or "HTTP/1.1" in line] == [], (
            f"{server.service}: server access lines"
        )
        assert [line for line in log if "Not Found" in line or "Bad Request" in line] == [], "Django's 4xx warnings"
        assert '"path": "/nope/", "query": "", "status": 404' in server.log() or server is gateway


def test_telemetry_covers_every_worker_and_counts_load(stack):
    mode, backend, gateway = stack
    time.sleep(0.6)  # longer than the workers' publishing interval: earlier tests' counts are in
    before = backend.get("/telemetry")[1]
    assert before["total"]["workers"] == 2
    assert len({worker["pid"] for worker in before["workers"]}) == 2
    # gunicorn's arbiter, uvicorn's supervisor: the master is counted too.
    assert before["master"]["pid"] not in {worker["pid"] for worker in before["workers"]}

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: request(f"{gateway.url}/api/aggregated/?n=5&delay=0.2"), range(4)))
    time.sleep(0.6)
    after = backend.get("/telemetry")[1]
    total = after["total"]
    assert total["requests"] - before["total"]["requests"] == 20
    assert total["in_flight"]["now"] == 0 and total["in_flight"]["peak"] >= 5
    assert total["cpu_seconds"] > before["total"]["cpu_seconds"]
    assert total["threads"]["now"] >= 2 and total["rss_bytes"]["now"] > 20_000_000
    assert sum(worker["requests"] for worker in after["workers"]) == total["requests"]
    if mode == "asgi":
        assert total["loop_lag_ms"] is not None and total["loop_lag_ms"]["max"] >= 0
    else:
        assert total["loop_lag_ms"] is None


def threads_while_busy(backend, concurrency=30, delay=0.8):
    """Threads of the backend while `concurrency` async-view requests of `delay` s are in flight."""
    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(request, f"{backend.url}/api/async/?delay={delay}") for _ in range(concurrency)]
        time.sleep(delay / 2)
        busy = backend.get("/telemetry")[1]["total"]
        assert all(future.result()[0] == 200 for future in futures)
    assert busy["in_flight"]["now"] == concurrency
    return busy["threads"]["now"]


def test_under_asgi_djangos_database_receivers_cost_a_thread_per_request(serve):
    # Django as shipped: request_started's sync receivers give each request a thread.
    shipped = serve("backend", "asgi", DB_SIGNALS="on")
    assert shipped.get("/healthz")[1]["db_signals"] == "on"
    # With no database (DB=none; the gateway always): receivers detached, async requests need
    # no thread. With one (the backend's default SQLite), auto keeps Django as shipped.
    trimmed = serve("backend", "asgi", DB="none")
    assert trimmed.get("/healthz")[1]["db_signals"] == "off"
    assert serve("backend", "asgi").get("/healthz")[1]["db_signals"] == "on"
    assert threads_while_busy(shipped) >= 30
    assert threads_while_busy(trimmed) < 15
