"""Every worker of a fresh server is warm before it serves: it has imported the URLconf
and the views (and, in the gateway, built its HTTP client set-up) at start, said so in
one "warm" line, and a worker whose warm-up fails never serves. Behaviour, not speed:
what the warm-up saves is printed by bench/first_requests.py."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.live import LiveServer, free_port

WORKERS = 2


def lines(server):
    return [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]


def warm_lines(server, count, timeout=20):
    """The server's "warm" lines, once `count` are there (gunicorn's and uvicorn's workers
    start one after another, and /healthz answers as soon as the first one is up)."""
    deadline = time.monotonic() + timeout
    while len(found := [line for line in lines(server) if line["event"] == "warm"]) < count:
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return found


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
@pytest.mark.parametrize("service", ["backend", "gateway"])
def test_every_worker_is_warm_before_its_first_request(serve, service, mode):
    extra = {"BACKEND_URL": f"http://127.0.0.1:{free_port()}"} if service == "gateway" else {}
    threads = {"THREADS": 4} if mode == "wsgi" else {}  # uvicorn has no thread knob
    server = serve(service, mode, WORKERS=WORKERS, **threads, **extra)
    warm = warm_lines(server, WORKERS)
    assert len(warm) == WORKERS, server.log()
    assert len({line["pid"] for line in warm}) == WORKERS, "one warm line per worker"
    for line in warm:
        assert (line["service"], line["mode"]) == (service, mode)
        assert list(line["steps"]) == {"backend": ["urlconf"], "gateway": ["urlconf", "warm"]}[service]
        assert line["ms"] >= sum(line["steps"].values()) > 0

    # Each worker's telemetry says it is warm (and with the same figure as its line).
    time.sleep(2 * 0.25)  # the workers' publishing interval, twice
    workers = server.get("/telemetry")[1]["workers"]
    assert {w["pid"]: w["warm_ms"] for w in workers} == {line["pid"]: line["ms"] for line in warm}

    # Load both workers: in each, the warm line comes before its first access line.
    path = "/api/?delay=0.2" if service == "backend" else "/healthz"
    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(lambda _: server.get(path)[0], range(32))) == {200}
    time.sleep(0.2)
    log = lines(server)
    served = {line["pid"] for line in log if line["event"] == "access"}
    assert served <= {line["pid"] for line in warm}, "only warmed workers serve"
    for pid in served:
        events = [line["event"] for line in log if line.get("pid") == pid and line["event"] in ("warm", "access")]
        assert events[0] == "warm" and events.count("warm") == 1, (pid, events[:3])


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_a_worker_whose_warm_up_fails_never_serves_and_says_why(tmp_path, mode):
    # A step that raises, put in every process of the server through sitecustomize.
    (tmp_path / "sitecustomize.py").write_text(
        "from asynclab import warmup\n"
        "def urlconf():\n"
        "    raise RuntimeError('warm-up test: broken on purpose')\n"
        "warmup.urlconf = urlconf\n"
    )
    from harness.live import ROOT

    server = LiveServer("backend", mode, WORKERS=1, PYTHONPATH=f"{tmp_path}:{ROOT}")
    with pytest.raises(RuntimeError) as failed:
        server.start(timeout=10)
    server.stop()
    message = str(failed.value)
    assert "broken on purpose" in message
    logged = [json.loads(line) for line in message.splitlines() if line.startswith("{") and "warm-up failed" in line]
    assert logged and logged[0]["level"] == "ERROR" and "RuntimeError" in logged[0]["exception"]
    assert '"event": "warm"' not in message and '"event": "access"' not in message
