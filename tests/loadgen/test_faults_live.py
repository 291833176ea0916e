"""`loadgen faults` as `make faults` runs it, on live services: one backend worker killed
(asynclab.fault, as the campaign does inside the container) while loadgen measures; the
result tells before, during and after apart, and says when the answers were clean again."""

import json
import subprocess
import sys
import time

import pytest

from asynclab import fault
from harness.live import ROOT, LiveServer, serve_env


@pytest.fixture(scope="module")
def services():
    backend = LiveServer("backend", "wsgi", WORKERS=2).start()
    gateway = LiveServer("gateway", "asgi", BACKEND_URL=backend.url).start()
    yield backend, gateway
    gateway.stop()
    backend.stop()


def requests_served(server) -> int:
    return server.get("/telemetry")[1]["total"]["requests"]


def test_a_killed_backend_worker_is_seen_and_recovered_from(services, tmp_path):
    backend, gateway = services
    # Both backend workers up before the run: loadgen's watch starts from the workers it sees.
    up = time.monotonic() + 30
    while len(fault.workers(backend.url)) < 2:
        assert time.monotonic() < up, "the backend's second worker never came up"
        time.sleep(0.1)
    before = requests_served(backend)
    process = subprocess.Popen(
        [sys.executable, "-m", "loadgen", "faults", "--fault", "backend-worker-killed", "--duration", "12"]
        # 10 calls a second of 1 s each, well inside the backend's 2 x 10 threads: its
        # /telemetry, which loadgen watches, still answers at once.
        + ["--rate", "5", "--fanout", "2", "--delay", "1", "--quiet"]
        # httpx: the gateway's auto client, aiohttp, resends a cut GET once and hides the cut.
        + ["--client", "shared"],
        cwd=ROOT,
        env=serve_env(LOADGEN_RESULTS=tmp_path, LOADGEN_GATEWAY_URL=gateway.url, LOADGEN_BACKEND_URL=backend.url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Three seconds of measured load (30 calls answered) first: a baseline before the fault.
    deadline = time.monotonic() + 30
    while requests_served(backend) < before + 30:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.2)
    done = fault.kill_worker(backend.url)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    [path] = tmp_path.glob("*-faults-backend-worker-killed-*.json")
    result = json.loads(path.read_text())
    r = result["recovery"]
    assert result["scenario"]["watched"] == "backend-workers" and r["outage_seen"], r
    # The kill cut calls in flight: the gateway answered them as failed, within its deadline.
    assert done["in_flight"][done["killed"]] > 0
    assert r["during"]["requests"] + r["after"]["requests"] > 0
    failed = {**r["during"]["errors_by"], **r["after"]["errors_by"]}
    assert failed and set(failed) <= {"partial", "502", "504"}, (
        failed,
        result["figures"]["errors_by"],
        result["figures"]["calls_failed"],
        [(b["t"], b["errors"]) for b in result["bins"]],
        r,
        done,
    )
    assert max(r["during"]["longest"] or 0, r["after"]["longest"]) < result["scenario"]["deadline"] + 1
    assert r["before"]["error_rate"] == 0 and r["recovered_after"] is not None
    assert "a backend worker was gone at" in out and "clean again" in out
    print("\n" + out)
