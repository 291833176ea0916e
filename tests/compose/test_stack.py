"""Compose tier: the real image and stack through the Makefile, as a user runs it.

Required: with no Docker engine these tests fail, they never skip. Each run uses its own
compose project and free host ports, so it does not touch a lab the user has running.

Over 250 lines: each test brings the real stack up and checks one behaviour end to end
through docker (PostgreSQL's: test_stack_database.py).
"""

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from harness.live import free_port, get_json, raw_get
from tests.compose.project import run

pytestmark = pytest.mark.compose

PROJECT = f"asynclabtest{os.getpid()}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if shutil.which("docker") is None or run("docker", "info").returncode != 0:
        pytest.fail("the compose tier needs a running Docker engine (docker info failed)")
    env = {
        **os.environ,
        "COMPOSE_PROJECT_NAME": PROJECT,
        "GATEWAY_PORT": str(free_port()),
        "BACKEND_PORT": str(free_port()),
        "HEALTHCHECK_INTERVAL": "1s",
        "RESULTS_DIR": str(tmp_path_factory.mktemp("results")),
    }
    for knob in ("SERVER_MODE", "BACKEND_SERVER_MODE", "GATEWAY_SERVER_MODE"):
        env.pop(knob, None)
    yield env
    run("make", "down", env=env)
    # This project's PostgreSQL volume too: a user's `make down` keeps theirs.
    run(*compose(env), "--profile", "postgres", "down", "--volumes", env=env)


def containers(env):
    result = run("docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={PROJECT}", env=env)
    return sorted(result.stdout.split())


# One service with two workers in each mode, so /telemetry must cover every worker; and
# under asgi a gateway call budget one fan-out can fill, for the 503 check.
TWO_WORKERS = {"wsgi": "GATEWAY_WORKERS", "asgi": "BACKEND_WORKERS"}
# And under asgi a CPU budget and a pinning, which each service's /healthz must report.
MODE_KNOBS = {"wsgi": {}, "asgi": {"GATEWAY_MAX_CALLS": "100", "BACKEND_CPUS": "1.5", "GATEWAY_CPUSET": "0"}}
# (quota in cores, cpuset) per service; None: no quota / not pinned (every CPU).
CPU = {
    "wsgi": {"backend": (None, None), "gateway": (None, None)},
    "asgi": {"backend": (1.5, None), "gateway": (None, "0")},
}


def up(env, mode, how):
    # Both ways the README gives: a make variable, or the environment.
    workers = {TWO_WORKERS[mode]: "2", **MODE_KNOBS[mode]}
    if how == "argument":
        result = run("make", "up", f"SERVER_MODE={mode}", env={**env, **workers})
    else:
        result = run("make", "up", env={**env, **workers, "SERVER_MODE": mode})
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def fetch(env, port_knob, path):
    status, body, headers = get_json(f"http://127.0.0.1:{env[port_knob]}{path}", timeout=60)
    assert status == 200, body
    return body


def compose(env):
    if run("docker", "compose", "version").returncode == 0:
        return ["docker", "compose"]
    return ["docker-compose"]


def logged(env, request_id):
    """The JSON lines of `docker compose logs gateway backend | grep <id>`, as the README says."""
    result = run(*compose(env), "logs", "--no-color", "gateway", "backend", env=env)
    assert result.returncode == 0, result.stderr
    # Each line is "<container>  | <what the service printed>".
    return [json.loads(line.split("| ", 1)[1]) for line in result.stdout.splitlines() if request_id in line]


def inspect(container_id):
    return json.loads(run("docker", "inspect", container_id).stdout)[0]


@pytest.mark.parametrize(("mode", "how"), [("wsgi", "argument"), ("asgi", "environment")])
def test_make_up_runs_the_stack_in_the_mode_asked(stack, mode, how):
    before = containers(stack)
    result = up(stack, mode, how)
    after = containers(stack)
    assert len(after) == 2
    assert not set(before) & set(after), "switching mode must recreate every container"

    for port_knob, service in (("GATEWAY_PORT", "gateway"), ("BACKEND_PORT", "backend")):
        health = fetch(stack, port_knob, "/healthz")
        assert (health["service"], health["server_mode"], health["interface"]) == (service, mode, mode)
        quota, cpuset = CPU[mode][service]
        assert health["cpu"]["quota"] == quota, health["cpu"]
        usable = health["cpu"]["online"] if cpuset is None else 1  # not pinned: every CPU
        assert health["cpu"]["cores"] == (usable if quota is None else min(quota, usable)), health["cpu"]
        assert cpuset is None or health["cpu"]["cpuset"] == cpuset, health["cpu"]

    # The edge, through the published ports, as a hostile client meets it: JSON in each mode.
    for port_knob in ("GATEWAY_PORT", "BACKEND_PORT"):
        port = int(stack[port_knob])
        for answer, expected in [
            (raw_get(port, "/healthz", host="evil.example"), (400, "disallowed_host")),
            (raw_get(port, "/healthz?x=" + "y" * 2100), (414, "uri_too_long")),
            (
                raw_get(port, "/healthz", headers=b"".join(b"X-H-%d: 1\r\n" % i for i in range(70))),
                (431, "headers_too_large"),
            ),
            (raw_get(port, "/healthz?verbose=true"), (400, "unknown_parameter")),
        ]:
            status, content_type, body = answer
            assert content_type == "application/json" and (status, json.loads(body)["error"]) == expected, port_knob
    status, _, body = raw_get(int(stack["GATEWAY_PORT"]), "/api/aggregated/?n=2&n=3")
    assert (status, json.loads(body)["error"]) == (400, "repeated_parameter")

    startup = [line for line in result.stdout.splitlines() if '"event": "startup"' in line]
    assert len(startup) == 2 and all(f'"mode": "{mode}"' in line for line in startup), result.stdout

    # Latency shape through both hops (host -> gateway -> backend), with a short delay.
    gather = fetch(stack, "GATEWAY_PORT", "/api/aggregated/?n=10&delay=0.3")
    assert len(gather["responses"]) == 10 and gather["errors"] == []
    assert gather["fetch_elapsed"] < 1.5
    threadpool = fetch(stack, "GATEWAY_PORT", "/api/aggregated/threadpool/?n=10&delay=0.3")
    assert len(threadpool["responses"]) == 10 and threadpool["fetch_elapsed"] < 1.5
    sequential = fetch(stack, "GATEWAY_PORT", "/api/aggregated/sync/?n=5&delay=0.3")
    assert len(sequential["responses"]) == 5 and sequential["fetch_elapsed"] >= 1.5

    # One request, followed through the logs by its id: one gateway line, n backend lines.
    request_id = f"compose-{mode}-1"
    status, body, headers = get_json(
        f"http://127.0.0.1:{stack['GATEWAY_PORT']}/api/aggregated/?n=4&delay=0.1",
        timeout=60,
        headers={"X-Request-ID": request_id},
    )
    assert status == 200 and headers["X-Request-ID"] == request_id
    deadline = time.monotonic() + 10
    while len(lines := logged(stack, request_id)) < 5 and time.monotonic() < deadline:
        time.sleep(0.5)
    gateway_lines = [line for line in lines if line["service"] == "gateway"]
    backend_lines = [line for line in lines if line["service"] == "backend"]
    assert len(gateway_lines) == 1 and gateway_lines[0]["calls"]["n"] == 4 and gateway_lines[0]["mode"] == mode
    assert sorted(line["request_id"] for line in backend_lines) == [f"{request_id}.{i}" for i in range(4)]

    # Telemetry: every worker of the two-worker service; counters move; in flight back to 0.
    port_knob = {"GATEWAY_WORKERS": "GATEWAY_PORT", "BACKEND_WORKERS": "BACKEND_PORT"}[TWO_WORKERS[mode]]
    before = fetch(stack, port_knob, "/telemetry")
    assert before["total"]["workers"] == 2 and len({w["pid"] for w in before["workers"]}) == 2
    for _ in range(3):
        fetch(stack, "GATEWAY_PORT", "/api/aggregated/?n=5&delay=0.1")
    time.sleep(0.6)
    after = fetch(stack, port_knob, "/telemetry")
    assert after["total"]["requests"] > before["total"]["requests"]
    assert after["total"]["cpu_seconds"] > before["total"]["cpu_seconds"]
    assert after["total"]["in_flight"]["now"] == 0
    assert (after["total"]["loop_lag_ms"] is not None) == (mode == "asgi")

    # loadgen in its container, a short article table, the way the README runs it.
    before = set(Path(stack["RESULTS_DIR"]).glob("*.json"))
    short = "article --fanout 3 --delay 0.2 --repeat 1 --strategies gather,sequential --targets sync,async"
    result = run("make", "loadgen", f"ARGS={short}", f"SERVER_MODE={mode}", env=stack)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"article table, SERVER_MODE={mode}" in result.stdout
    assert result.stdout.count("matches") + result.stdout.count("DIFFERS") == 4
    [path] = set(Path(stack["RESULTS_DIR"]).glob("*.json")) - before
    saved = json.loads(path.read_text())
    assert path.name.endswith(f"-article-{mode}.json")
    assert [(r["strategy"], r["target"]) for r in saved["rows"]] == [
        ("gather", "sync"),
        ("gather", "async"),
        ("sequential", "sync"),
        ("sequential", "async"),
    ]
    assert saved["environment"]["gateway"]["server"]["mode"] == mode
    assert saved["environment"]["git_commit"]


def test_topology_user_and_startup_logs(stack):
    if len(containers(stack)) != 2:
        up(stack, "wsgi", "argument")
    by_service = {}
    for container_id in containers(stack):
        info = inspect(container_id)
        by_service[info["Config"]["Labels"]["com.docker.compose.service"]] = info
    networks = {
        name: sorted(n.rsplit("_", 1)[-1] for n in info["NetworkSettings"]["Networks"])
        for name, info in by_service.items()
    }
    assert networks == {"backend": ["data", "internal"], "gateway": ["edge", "internal"]}
    for info in by_service.values():
        assert info["Config"]["User"] == "lab"
        assert info["HostConfig"]["ReadonlyRootfs"] is True
        assert not any("docker.sock" in m.get("Source", "") for m in info["Mounts"])
        uid = run("docker", "exec", info["Id"], "python", "-c", "import os; print(os.getuid())").stdout.strip()
        assert uid == "10001"
    logs = run("docker", "logs", by_service["backend"]["Id"]).stdout
    assert '"event": "startup"' in logs and '"service": "backend"' in logs


def service_container(env, service):
    [container_id] = run(
        "docker",
        "ps",
        "-q",
        "--filter",
        f"label=com.docker.compose.project={PROJECT}",
        "--filter",
        f"label=com.docker.compose.service={service}",
        env=env,
    ).stdout.split()
    return container_id


def test_the_gateway_survives_a_stopped_backend_and_recovers(stack):
    if len(containers(stack)) != 2:
        up(stack, "asgi", "environment")
    gateway = f"http://127.0.0.1:{stack['GATEWAY_PORT']}"
    # Injected failures come back as a partial result with the right count.
    status, body, headers = get_json(f"{gateway}/api/aggregated/?n=20&delay=0&fail=0.1", timeout=30)
    assert status == 200 and headers["X-Aggregation-Errors"] == "2" and len(body["responses"]) == 18

    # Over capacity: 100 hanging calls fill the asgi gateway's budget of 100 until their
    # 2 s deadline; meanwhile the next aggregation is refused at once.
    import threading

    if get_json(f"{gateway}/healthz")[1]["server_mode"] == "asgi":
        filler = threading.Thread(
            target=get_json,
            args=(f"{gateway}/api/aggregated/?n=100&delay=0&hang=1&deadline=2",),
            kwargs={"timeout": 30},
        )
        filler.start()
        time.sleep(0.7)
        status, body, headers = get_json(f"{gateway}/api/aggregated/?n=1&delay=0", timeout=30)
        assert (status, body["error"], headers["Retry-After"]) == (503, "over_capacity", "1")
        assert filler.is_alive(), "refused while the budget was full, not after it emptied"
        filler.join(30)
        assert get_json(f"{gateway}/api/aggregated/?n=1&delay=0", timeout=30)[0] == 200

    assert run(*compose(stack), "stop", "backend", env=stack).returncode == 0
    try:
        for path in ("/api/aggregated/", "/api/aggregated/threadpool/"):
            status, body, _ = get_json(f"{gateway}{path}?n=5&delay=0.1&deadline=2", timeout=30)
            # Ended by the 2 s deadline (or at once, refused), never by the 5 s call timeout.
            assert body["fetch_elapsed"] < 5, body["fetch_elapsed"]
            assert status == 502 and body["responses"] == []
            assert sorted(e["task_id"] for e in body["errors"]) == [0, 1, 2, 3, 4]
            assert {e["kind"] for e in body["errors"]} <= {"connect", "timeout", "deadline"}
    finally:
        assert run(*compose(stack), "start", "backend", env=stack).returncode == 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, body, _ = get_json(f"{gateway}/api/aggregated/?n=5&delay=0.1", timeout=30)
        if status == 200 and not body["errors"]:
            break
        time.sleep(0.5)
    assert status == 200 and len(body["responses"]) == 5, "the gateway did not recover after the backend came back"


def call_overhead(gateway):
    """Seconds a backend call took at the gateway beyond the backend's own handler time."""
    from asynclab import timing

    _, _, headers = get_json(f"{gateway}/api/aggregated/?n=1&delay=0", timeout=30)
    metrics = timing.parse(headers["Server-Timing"])
    return metrics["call"] - metrics["backend"]


def test_netem_adds_latency_to_the_backend_only_with_net_admin_on_that_one_service(stack):
    if len(containers(stack)) != 2:
        up(stack, "asgi", "environment")
    gateway = f"http://127.0.0.1:{stack['GATEWAY_PORT']}"
    before = min(call_overhead(gateway) for _ in range(3))
    result = run("make", "netem", "NETEM_DELAY=300ms", env=stack, timeout=900)
    if "the host kernel has no netem" in result.stdout:
        # A kernel built without sch_netem (this lab's CI machine): make netem must say so
        # and fail, and leave nothing behind.
        assert result.returncode != 0
        assert sorted(inspect(c)["Config"]["Labels"]["com.docker.compose.service"] for c in containers(stack)) == [
            "backend",
            "gateway",
        ]
        assert min(call_overhead(gateway) for _ in range(3)) < before + 0.29
        return
    assert result.returncode == 0, result.stdout + result.stderr
    try:
        assert '"qdisc": "qdisc netem' in result.stdout and "delay 300ms" in result.stdout
        delayed = min(call_overhead(gateway) for _ in range(3))
        assert delayed >= before + 0.29, (before, delayed)
        caps = {
            inspect(c)["Config"]["Labels"]["com.docker.compose.service"]: inspect(c)["HostConfig"]["CapAdd"]
            for c in containers(stack)
        }
        assert caps["netem"] == ["NET_ADMIN"] or caps["netem"] == ["CAP_NET_ADMIN"]
        assert not caps["backend"] and not caps["gateway"]
    finally:
        assert run("make", "netem-off", env=stack).returncode == 0
    assert min(call_overhead(gateway) for _ in range(3)) < before + 0.29, "the 300 ms are gone"


def test_sigterm_stops_a_busy_service_before_docker_kills_it(stack):
    if len(containers(stack)) != 2:
        up(stack, "asgi", "environment")
    gateway = f"http://127.0.0.1:{stack['GATEWAY_PORT']}"
    import threading

    outcome = {}

    def slow_request():
        try:
            outcome["status"] = get_json(f"{gateway}/api/aggregated/sync/?n=8&delay=1", timeout=30)[0]
        except OSError as exc:  # cut: the connection closes, nothing hangs
            outcome["error"] = type(exc).__name__

    client = threading.Thread(target=slow_request)
    client.start()
    time.sleep(1)
    started = time.monotonic()
    result = run("docker", "stop", "-t", "10", service_container(stack, "gateway"), env=stack)
    stopped = time.monotonic() - started
    client.join(30)
    # Stopped by SIGTERM and the servers' 3 s grace, not by docker's SIGKILL at -t 10.
    assert result.returncode == 0 and stopped < 10, f"docker stop took {stopped:.1f} s"
    assert not client.is_alive() and outcome, "the in-flight request neither finished nor was cut"


def test_make_down_leaves_no_container(stack):
    if not containers(stack):
        up(stack, "wsgi", "argument")
    result = run("make", "down", env=stack)
    assert result.returncode == 0, result.stderr
    assert containers(stack) == []
    networks = run("docker", "network", "ls", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}").stdout
    assert networks.strip() == ""
