"""The entrypoint: SERVER_MODE -> server command, loud failures, and each mode really serving."""

import json
import re
import subprocess
import sys
import time

import pytest

from asynclab.servers import ServerConfig
from tests.live import ROOT, serve_env


def config(mode, **overrides):
    values = dict(service="backend", mode=mode, host="0.0.0.0", port=8000, workers=2, threads=7)
    return ServerConfig(**{**values, **overrides})


def test_wsgi_is_gunicorn_gthread_with_workers_and_threads():
    argv = config("wsgi").command()
    assert argv[:4] == [sys.executable, "-m", "gunicorn", "backend.wsgi:application"]
    assert argv[argv.index("--worker-class") + 1] == "gthread"
    assert argv[argv.index("--workers") + 1] == "2"
    assert argv[argv.index("--threads") + 1] == "7"


def test_asgi_is_uvicorn_with_workers_and_no_thread_knob():
    cfg = config("asgi", service="gateway")
    argv = cfg.command()
    assert argv[2:4] == ["uvicorn", "gateway.asgi:application"]
    assert argv[argv.index("--workers") + 1] == "2"
    assert cfg.describe()["threads"] is None


def test_runserver_is_djangos_development_server():
    argv = config("runserver").command()
    assert argv[2:5] == ["django", "runserver", "0.0.0.0:8000"]
    assert "--noreload" in argv
    assert config("runserver").describe()["workers"] == 1


def start_and_fail(service="backend", **env):
    return subprocess.run(
        [sys.executable, "-m", "asynclab.entrypoint", service],
        cwd=ROOT,
        env=serve_env(**env),
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SERVER_MODE": "fastcgi"}, "unknown SERVER_MODE 'fastcgi' for backend: choose one of asgi, runserver, wsgi"),
        ({"BACKEND_SERVER_MODE": "bogus"}, "unknown SERVER_MODE 'bogus'"),
        ({"WORKERS": "many"}, "WORKERS='many'"),
        ({"THREADS": "0"}, "THREADS='0': must be at least 1"),
        ({"BACKEND_DELAY": "-1"}, "BACKEND_DELAY='-1': must be at least 0"),
        ({"DJANGO_DEBUG": "perhaps"}, "DJANGO_DEBUG='perhaps'"),
    ],
)
def test_a_bad_knob_stops_the_service_at_start_with_its_name(env, message):
    result = start_and_fail(**env)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_service_is_refused():
    result = start_and_fail("frontend")
    assert result.returncode == 2
    assert "unknown service 'frontend'" in result.stderr


def test_a_bad_backend_url_stops_the_gateway():
    result = start_and_fail("gateway", BACKEND_URL="file:///etc/passwd")
    assert result.returncode == 2
    assert "BACKEND_URL=" in result.stderr


@pytest.mark.parametrize(
    ("mode", "server", "interface"),
    [
        ("wsgi", "gunicorn", "wsgi"),
        ("asgi", "uvicorn", "asgi"),
        ("runserver", "runserver", "wsgi"),
    ],
)
def test_each_mode_serves_the_service_and_says_so(serve, mode, server, interface):
    backend = serve("backend", mode, WORKERS=1, THREADS=4)
    status, health, _ = backend.get("/healthz")
    assert status == 200
    assert (health["server_mode"], health["interface"], health["server"]["server"]) == (mode, interface, server)
    assert health["versions"]["django"].startswith("5.2.")
    status, body, _ = backend.get("/api/?task_id=1&delay=0")
    assert (status, body["message"], body["task_id"]) == (200, "Hello World!", "1")

    startup = [json.loads(line) for line in backend.log().splitlines() if '"event": "startup"' in line]
    assert len(startup) == 1, backend.log()
    assert (startup[0]["service"], startup[0]["mode"], startup[0]["server"]) == ("backend", mode, server)
    assert startup[0]["command"].startswith(f"-m {'django' if mode == 'runserver' else server} ")


def test_the_per_service_mode_overrides_the_shared_one(serve):
    backend = serve("backend", "wsgi", BACKEND_SERVER_MODE="asgi")
    _, health, _ = backend.get("/healthz")
    assert (health["server_mode"], health["interface"]) == ("asgi", "asgi")


def test_workers_starts_that_many_server_processes(serve):
    backend = serve("backend", "asgi", WORKERS=2)
    # /healthz answers once the first worker is up; the second may still be starting.
    deadline = time.monotonic() + 20
    while len(started := set(re.findall(r"Started server process \[(\d+)\]", backend.log()))) < 2:
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(started) == 2, backend.log()
