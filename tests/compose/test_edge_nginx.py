"""Compose tier: EDGE=nginx puts nginx in front of the gateway; it comes up healthy as a
non-root, read-only container and proxies, and it keeps slow clients off gunicorn's threads.

The timing checks are properties of buffering, not of this machine's speed: behind nginx no
gunicorn thread ever waits on a half-sent request, so an ordinary request is answered as
if the slow clients were not there (1 s is far above its few ms); without nginx 40 of them
hold all 10 gthread threads for as long as they stay, so the request gets no answer at all.
"""

import os
import shutil
import socket
import time
import urllib.error
import urllib.request

import pytest

from harness.live import ROOT, free_port, get_json
from tests.compose.test_stack import compose

pytestmark = pytest.mark.compose

PROJECT = f"asynclabedge{os.getpid()}"
ORDINARY = "/api/aggregated/?n=1&delay=0&target=async"


def run(*argv, env=None, timeout=900):
    import subprocess

    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def stack():
    if shutil.which("docker") is None or run("docker", "info").returncode != 0:
        pytest.fail("the compose tier needs a running Docker engine (docker info failed)")
    env = {
        **os.environ,
        "COMPOSE_PROJECT_NAME": PROJECT,
        "GATEWAY_PORT": str(free_port()),
        "BACKEND_PORT": str(free_port()),
        "EDGE_PORT": str(free_port()),
        "HEALTHCHECK_INTERVAL": "1s",
    }
    for knob in ("SERVER_MODE", "BACKEND_SERVER_MODE", "GATEWAY_SERVER_MODE", "THREADS", "GATEWAY_THREADS"):
        env.pop(knob, None)
    result = run("make", "up", "SERVER_MODE=wsgi", "EDGE=nginx", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    yield env
    run("make", "down", "EDGE=nginx", env=env)


def edge_container(env) -> dict:
    import json

    ids = run(*compose(env), "--profile", "nginx", "ps", "-q", "edge", env=env).stdout.split()
    assert len(ids) == 1, ids
    return json.loads(run("docker", "inspect", ids[0]).stdout)[0]


def test_nginx_comes_up_healthy_as_non_root_and_proxies(stack):
    info = edge_container(stack)
    assert info["State"]["Health"]["Status"] == "healthy"
    assert info["Config"]["User"] not in ("", "0", "root")
    assert info["HostConfig"]["ReadonlyRootfs"] is True
    assert info["HostConfig"]["CapDrop"] == ["ALL"]
    status, body, headers = get_json(f"http://127.0.0.1:{stack['EDGE_PORT']}{ORDINARY}", timeout=30)
    assert status == 200 and body["strategy"] == "gather" and not body["errors"], body
    assert headers["Server"] == "nginx"
    # The gateway's own checks still decide: a Host it does not answer to is its JSON 400.
    request = urllib.request.Request(f"http://127.0.0.1:{stack['EDGE_PORT']}/healthz", headers={"Host": "evil.test"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400


def slow_clients(port: int, count: int) -> list[socket.socket]:
    """`count` connections that send half a request head and stop."""
    head = f"GET {ORDINARY} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\n\r\n".encode()
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(head[: len(head) // 2])
        sockets.append(sock)
    time.sleep(0.5)  # let the server take them in
    return sockets


def timed(port: int, timeout: float) -> tuple[int | None, float]:
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{ORDINARY}", timeout=timeout) as response:
            return response.status, time.perf_counter() - start
    except (TimeoutError, urllib.error.URLError):
        return None, time.perf_counter() - start


def test_behind_nginx_40_slow_clients_do_not_hold_the_wsgi_gateway(stack):
    port = int(stack["EDGE_PORT"])
    held = slow_clients(port, 40)
    try:
        status, took = timed(port, timeout=10)
    finally:
        for sock in held:
            sock.close()
    print(f"behind nginx, 40 slow clients: {status} in {took * 1000:.1f} ms")
    assert status == 200 and took < 1.0


def test_without_nginx_40_slow_clients_hold_every_gthread_thread(stack):
    port = int(stack["GATEWAY_PORT"])
    held = slow_clients(port, 40)
    try:
        status, took = timed(port, timeout=3)
    finally:
        for sock in held:
            sock.close()
    print(f"gateway bare, 40 slow clients: {status} after {took:.2f} s")
    assert status is None
    # Once they leave, the gateway answers again.
    deadline = time.monotonic() + 30
    while timed(port, timeout=5)[0] != 200:
        assert time.monotonic() < deadline, "the gateway did not recover after the slow clients left"


def test_cost_scripts_read_nginxs_cpu_and_requests_from_this_engine(stack):
    """make edge-nginx divides nginx's CPU (its cgroup: v1 cpuacct or v2 cpu.stat, whichever
    this engine has) by the requests nginx counted (stub_status inside the container)."""
    edge = edge_container(stack)["Id"]

    def reading(script: str) -> int:
        done = run(str(ROOT / "docker" / "nginx" / script), edge, env=stack, timeout=60)
        assert done.returncode == 0 and "no cgroup" not in done.stderr, done.stdout + done.stderr
        return int(done.stdout.strip())

    cpu0, requests0 = reading("cpu.sh"), reading("requests.sh")
    sent = 20
    for _ in range(sent):
        status, _, _ = get_json(f"http://127.0.0.1:{stack['EDGE_PORT']}{ORDINARY}", timeout=30)
        assert status == 200
    cpu1, requests1 = reading("cpu.sh"), reading("requests.sh")
    # Each reading of the counter is a request to nginx too (the first one's own included);
    # the healthcheck may add its own /healthz meanwhile.
    assert requests1 - requests0 - 1 >= sent
    assert requests1 - requests0 - 1 <= sent + 10
    assert cpu1 > cpu0
