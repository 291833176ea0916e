"""GATEWAY_BACKEND_WAIT: where nothing orders the start (a Swarm stack), the gateway waits
for its backend's /healthz before its server starts, and gives up loudly."""

from __future__ import annotations

import json
import threading
import time

import pytest

from harness.live import LiveServer, free_port


def test_the_gateway_starts_once_its_backend_answers():
    backend = LiveServer("backend", "asgi")
    gateway = LiveServer("gateway", "asgi", BACKEND_URL=backend.url, GATEWAY_BACKEND_WAIT=60)
    started = threading.Thread(target=gateway.start, kwargs={"timeout": 90})
    began = time.monotonic()
    started.start()
    try:
        time.sleep(1.5)
        # Still waiting: its server does not listen before the backend answers.
        assert gateway.process.poll() is None and '"event": "startup"' not in gateway.log()
        backend.start()
        started.join(90)
        status, body, _ = gateway.get("/api/aggregated/?n=2&delay=0&target=async")
        assert status == 200 and len(body["responses"]) == 2 and body["errors"] == []
        (line,) = [json.loads(x) for x in gateway.log().splitlines() if '"backend_ready"' in x]
        assert line["url"] == backend.url + "/healthz"
        assert 1.5 <= line["waited"] <= time.monotonic() - began
    finally:
        gateway.stop()
        backend.stop()


def test_a_backend_that_never_answers_stops_the_gateway_naming_the_knob():
    gateway = LiveServer("gateway", "asgi", BACKEND_URL=f"http://127.0.0.1:{free_port()}", GATEWAY_BACKEND_WAIT=1)
    with pytest.raises(RuntimeError, match="exited 1") as failed:
        gateway.start(timeout=30)
    assert "not ok after 1 s (GATEWAY_BACKEND_WAIT)" in str(failed.value)
