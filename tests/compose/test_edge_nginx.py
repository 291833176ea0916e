"""Compose tier: EDGE=nginx puts nginx in front of the gateway; it comes up healthy as a
non-root, read-only container and proxies, it keeps slow clients off gunicorn's threads,
and every error a client gets through it is the lab's JSON: nginx's own, and the gateway's
passed on unchanged, never a server's HTML page.

The timing checks are properties of buffering, not of this machine's speed: behind nginx no
gunicorn thread ever waits on a half-sent request, so an ordinary request is answered as
if the slow clients were not there (1 s is far above its few ms); without nginx 40 of them
hold all 10 gthread threads for as long as they stay, so the request gets no answer at all.

Over 250 lines: each error a client can get through nginx is checked with its own request.
"""

import json
import os
import re
import shutil
import socket
import time
import urllib.error
import urllib.request

import pytest

from asynclab.edge import MAX_TARGET, server_limits
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


# ---------------------------------------------------------------- every error JSON

HEAD = "Host: 127.0.0.1\r\nConnection: close\r\n"
LIMITS = server_limits()


def head(line: str, *headers: str) -> bytes:
    return (line + "\r\n" + HEAD + "".join(f"{h}\r\n" for h in headers) + "\r\n").encode("latin-1")


# (what, request, nginx's status and error; whether the wsgi gateway bare answers it in
# its server's own HTML, which is what makes the case worth its place here)
REFUSED = [
    (
        "request line past gunicorn's",
        head(f"GET /healthz?{'x' * (LIMITS['request_line'] + 100)} HTTP/1.1"),
        414,
        "uri_too_long",
        True,
    ),
    (
        "header past gunicorn's field",
        head("GET /healthz HTTP/1.1", "X-Big: " + "a" * (LIMITS["header_field_bytes"] + 100)),
        431,
        "headers_too_large",
        True,
    ),
    ("control byte in X-Request-ID", head("GET /healthz HTTP/1.1", "X-Request-ID: a\x01b"), 400, "bad_request", True),
    (
        "control byte in Host",
        b"GET /healthz HTTP/1.1\r\nHost: a\x01b\r\nConnection: close\r\n\r\n",
        400,
        "bad_request",
        True,
    ),
    ("non-ASCII byte in the target", head("GET /h\xe9althz HTTP/1.1"), 400, "bad_request", True),
    ("not HTTP", b"NOT HTTP\r\n\r\n", 400, "bad_request", True),
    (
        "a body over nginx's limit",
        head("POST /healthz HTTP/1.1", "Content-Length: 100000") + b"a" * 100000,
        413,
        "body_too_large",
        False,
    ),
    ("HTTP/2.0 in the request line", head("GET /healthz HTTP/2.0"), 505, "http_version_not_supported", True),
]


def answer(port: int, request: bytes) -> tuple[int, str, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before it had all: the answer is still there to read
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    fields, _, body = rest.partition(b"\r\n\r\n")
    content_type = next(
        (
            line.split(b":", 1)[1].strip().decode()
            for line in fields.split(b"\r\n")
            if line.lower().startswith(b"content-type:")
        ),
        "",
    )
    return int(status_line.split()[1]), content_type, body


@pytest.mark.parametrize("what, sent, status, error, bare_html", REFUSED, ids=[case[0] for case in REFUSED])
def test_what_nginx_refuses_itself_is_the_labs_json(stack, what, sent, status, error, bare_html):
    got, content_type, body = answer(int(stack["EDGE_PORT"]), sent)
    assert (got, content_type) == (status, "application/json"), body[:300]
    shaped = json.loads(body)
    assert shaped["error"] == error and shaped["message"] and shaped["by"] == "nginx", shaped
    if bare_html:  # without nginx the same request gets the server's own page
        bare = answer(int(stack["GATEWAY_PORT"]), sent)
        assert bare[1].startswith("text/html"), bare


def test_header_lines_past_gunicorns_count_never_reach_it_behind_nginx(stack):
    # nginx passes on only the headers the services read: the count the gateway's server
    # refuses in HTML bare (128 lines) is never reached, and the request is served.
    many = head("GET /healthz HTTP/1.1", *(f"X-Filler-{i}: v" for i in range(LIMITS["header_fields"] + 2)))
    assert answer(int(stack["GATEWAY_PORT"]), many)[1].startswith("text/html")
    status, content_type, body = answer(int(stack["EDGE_PORT"]), many)
    assert (status, content_type) == (200, "application/json") and json.loads(body)["status"] == "ok"
    # X-Request-ID still reaches the gateway, which echoes it.
    status, _, headers = get_json(
        f"http://127.0.0.1:{stack['EDGE_PORT']}/healthz", headers={"X-Request-ID": "edge-id-7"}
    )
    assert status == 200 and headers["X-Request-ID"] == "edge-id-7"


def test_the_gateways_own_json_errors_pass_through_nginx_unchanged(stack):
    port = int(stack["EDGE_PORT"])
    status, _, body = answer(port, head(f"GET /healthz?{'x' * (MAX_TARGET + 10)} HTTP/1.1"))
    assert status == 414 and json.loads(body)["message"].startswith("the path and query are")
    status, _, body = answer(port, head("GET /api/aggregated/?n=1&n=2 HTTP/1.1"))
    shaped = json.loads(body)
    assert (status, shaped["error"], shaped["parameter"]) == (400, "repeated_parameter", "n")
    assert "by" not in shaped


def test_nginx_reads_no_request_line_longer_than_the_gateways_server_takes():
    conf = (ROOT / "docker" / "nginx" / "nginx.conf").read_text()
    count, size = re.search(r"large_client_header_buffers (\d+) (\d+)k;", conf).groups()
    assert int(size) * 1024 <= LIMITS["request_line"]


def test_when_the_gateway_is_down_nginxs_own_5xx_is_json(stack):
    """Last in this module: it stops the gateway, and starts it again for nothing after.
    A stopped container's address answers nothing: nginx gives up connecting after its
    proxy_connect_timeout (504), or is refused at once (502)."""
    port = int(stack["EDGE_PORT"])
    assert run(*compose(stack), "stop", "gateway", env=stack).returncode == 0
    try:
        status, content_type, body = answer(port, head("GET /healthz HTTP/1.1"))
        assert status in (502, 504) and content_type == "application/json", (status, body)
        assert json.loads(body)["error"] == {502: "bad_gateway", 504: "gateway_timeout"}[status]
    finally:
        assert run(*compose(stack), "start", "gateway", env=stack).returncode == 0
    deadline = time.monotonic() + 120
    while answer(port, head("GET /healthz HTTP/1.1"))[0] != 200:
        assert time.monotonic() < deadline, "nginx did not reach the gateway again"
        time.sleep(1)
