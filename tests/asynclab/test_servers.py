"""The entrypoint: SERVER_MODE -> server command, loud failures, and each mode really serving.

Over 250 lines: the ten modes' commands, their refusals and the entrypoint serving each for
real share the same helpers."""

import json
import re
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest

from asynclab.config import ConfigError
from asynclab.edge import server_limits
from asynclab.servers import SERVERS, ServerConfig
from harness.live import ROOT, LiveServer, serve_env

MODES = list(SERVERS)
# The module `python -m` runs in each mode.
MODULE = {
    "wsgi": "gunicorn",
    "asgi": "uvicorn",
    "runserver": "django",
    "gunicorn-sync": "gunicorn",
    "gevent": "gunicorn",
    "uvicorn-worker": "gunicorn",
    "granian": "granian",
    "granian-wsgi": "granian",
    "hypercorn": "hypercorn",
    "daphne": "daphne",
}
# What each mode's server reports and the interface Django's request object shows.
SERVER = {
    "wsgi": ("gunicorn", "wsgi"),
    "asgi": ("uvicorn", "asgi"),
    "runserver": ("runserver", "wsgi"),
    "gunicorn-sync": ("gunicorn", "wsgi"),
    "gevent": ("gunicorn", "wsgi"),
    "uvicorn-worker": ("gunicorn", "asgi"),
    "granian": ("granian", "asgi"),
    "granian-wsgi": ("granian", "wsgi"),
    "hypercorn": ("hypercorn", "asgi"),
    "daphne": ("daphne", "asgi"),
}
MULTI = [mode for mode in MODES if SERVERS[mode].WORKERS]
SINGLE = [mode for mode in MODES if not SERVERS[mode].WORKERS]
THREADED = [mode for mode in MODES if SERVERS[mode].THREADS]
UNTHREADED = [mode for mode in MODES if not SERVERS[mode].THREADS]


def config(mode, **overrides):
    values = dict(service="backend", mode=mode, host="0.0.0.0", port=8000, workers=2, threads=7)
    return ServerConfig(**{**values, **overrides})


def flag(argv, name):
    return argv[argv.index(name) + 1]


# --- Commands (pure) ----------------------------------------------------------------------


def test_the_registry_has_every_mode_of_the_matrix():
    assert MODES == list(MODULE) == list(SERVER)


def test_thread_per_request_modes_are_the_ones_whose_threads_bound_their_requests():
    # What make streams reads to give those modes fewer streams: the thread pools and runserver.
    threaded = sorted(mode for mode, module in SERVERS.items() if module.THREAD_PER_REQUEST)
    assert threaded == ["granian-wsgi", "gunicorn-sync", "runserver", "wsgi"]


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_runs_its_server_with_this_interpreter_on_the_service_s_app(mode):
    cfg = config(mode, service="gateway", host="127.0.0.1", port=9123)
    argv = cfg.command()
    assert argv[:3] == [sys.executable, "-m", MODULE[mode]]
    text = " ".join(argv)
    assert "9123" in text and "127.0.0.1" in text
    if mode == "runserver":
        assert argv[3:6] == ["runserver", "127.0.0.1:9123", "--noreload"]
    else:
        assert argv[3] == f"gateway.{SERVER[mode][1]}:application"
    assert (cfg.server, cfg.interface) == SERVER[mode]


@pytest.mark.parametrize(
    ("mode", "worker_class"),
    [
        ("wsgi", "gthread"),
        ("gunicorn-sync", "sync"),
        ("gevent", "asynclab.servers.workers.gevent.Worker"),
        ("uvicorn-worker", "asynclab.servers.workers.uvicorn.Worker"),
    ],
)
def test_the_gunicorn_modes_differ_only_in_their_worker(mode, worker_class):
    argv = config(mode).command()
    assert (flag(argv, "--worker-class"), flag(argv, "--workers"), flag(argv, "--graceful-timeout")) == (
        worker_class,
        "2",
        "3",
    )
    # gunicorn's own parser limits only where gunicorn parses (not under uvicorn's worker).
    if mode != "uvicorn-worker":
        assert int(flag(argv, "--limit-request-line")) == server_limits()["request_line"]
        assert int(flag(argv, "--limit-request-field_size")) == server_limits()["header_field_bytes"]
    else:
        assert "--limit-request-line" not in argv
    # gunicorn turns a sync worker with --threads into gthread: the flag must not be there.
    assert ("--threads" in argv) == (mode == "wsgi")


@pytest.mark.parametrize("mode", THREADED)
def test_threads_sets_the_server_s_own_knob(mode):
    option = SERVERS[mode].THREADS
    assert flag(config(mode, threads=7).command(), option.flag) == "7"


@pytest.mark.parametrize("mode", MODES)
def test_every_server_stops_quickly_and_writes_no_access_log(mode):
    text = " ".join(config(mode).command())
    assert "--access-log" not in text.replace("--no-access-log", "") and "--access-logfile" not in text
    shutdown = {
        "asgi": "--timeout-graceful-shutdown 3",
        "granian": "--workers-kill-timeout 3",
        "granian-wsgi": "--workers-kill-timeout 3",
        "daphne": "--application-close-timeout 3",
        "runserver": "--noreload",  # no grace at all: it exits on SIGTERM
    }.get(mode, "--graceful-timeout 3")
    assert shutdown in text


def test_hypercorn_gets_a_head_limit_above_the_lab_s_through_its_config_module():
    from asynclab.servers import hypercorn_config

    assert flag(config("hypercorn").command(), "--config") == "python:asynclab.servers.hypercorn_config"
    limits = server_limits()
    assert hypercorn_config.h11_max_incomplete_size >= limits["request_line"] + limits["header_field_bytes"]


# --- WORKERS and THREADS: mapped, or refused by name --------------------------------------


def from_env(mode, **env):
    return ServerConfig.from_env("backend", {"SERVER_MODE": mode, **env})


@pytest.mark.parametrize("mode", UNTHREADED)
@pytest.mark.parametrize("variable", ["THREADS", "BACKEND_THREADS"])
def test_threads_set_for_a_server_without_a_thread_knob_is_refused_by_name(mode, variable):
    with pytest.raises(ConfigError, match=rf"^{variable}='4': SERVER_MODE={mode} \(.*\) has no THREADS knob"):
        from_env(mode, **{variable: "4"})


@pytest.mark.parametrize("mode", SINGLE)
def test_workers_set_for_a_one_process_server_is_refused_by_name(mode):
    with pytest.raises(ConfigError, match=rf"^WORKERS='1': SERVER_MODE={mode} .* has no WORKERS knob"):
        from_env(mode, WORKERS="1")


@pytest.mark.parametrize("mode", MODES)
def test_an_unset_or_empty_knob_is_not_set_as_compose_passes_it(mode):
    # docker-compose.yml passes WORKERS/THREADS by name: empty when the host sets neither.
    cfg = from_env(mode, WORKERS="", THREADS=" ", GATEWAY_THREADS="9")
    described = cfg.describe()
    assert described["workers"] == 1
    expected = SERVERS[mode].THREADS and (SERVERS[mode].THREADS.default or 10)
    assert described["threads"] == (expected or None)


def test_thread_defaults_are_each_server_s_unless_set():
    assert from_env("wsgi").threads == 10  # the knob's default, as before
    assert from_env("granian-wsgi").threads == 10
    assert from_env("gevent").threads == 1000  # gunicorn's worker_connections
    assert from_env("gevent", THREADS="50").threads == 50
    assert from_env("gevent", BACKEND_THREADS="60", THREADS="50").threads == 60
    assert from_env("hypercorn", WORKERS="3").workers == 3


# --- The entrypoint ------------------------------------------------------------------------


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
        (
            {"SERVER_MODE": "fastcgi"},
            "unknown SERVER_MODE 'fastcgi' for backend: choose one of asgi, daphne, gevent, granian, "
            "granian-wsgi, gunicorn-sync, hypercorn, runserver, uvicorn-worker, wsgi",
        ),
        ({"BACKEND_SERVER_MODE": "bogus"}, "unknown SERVER_MODE 'bogus'"),
        ({"WORKERS": "many"}, "WORKERS='many'"),
        ({"THREADS": "0"}, "THREADS='0': must be at least 1"),
        ({"SERVER_MODE": "asgi", "THREADS": "4"}, "THREADS='4': SERVER_MODE=asgi (uvicorn) has no THREADS knob"),
        ({"SERVER_MODE": "daphne", "WORKERS": "2"}, "WORKERS='2': SERVER_MODE=daphne (daphne) has no WORKERS knob"),
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


# --- Each mode, live: one backend per mode, two workers where the server has the knob ------

# Every worker but the first to warm up waits this long more, so /healthz has a window in
# which some workers are warm and some are not (it must answer 503 "starting" there).
LATE = 1.5
SLOW_SECOND_WORKER = f"""
import os, time
from asynclab import warmup
_urlconf, _flag = warmup.urlconf, os.environ["ASYNCLAB_TEST_FIRST_WARM"]
def urlconf():
    _urlconf()
    try:
        os.close(os.open(_flag, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        time.sleep({LATE})
warmup.urlconf = urlconf
"""


def lines(server):
    return [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]


@pytest.fixture(scope="module", params=MODES)
def backend(request, tmp_path_factory):
    mode = request.param
    folder = tmp_path_factory.mktemp(f"warm-{mode}")
    (folder / "sitecustomize.py").write_text(SLOW_SECOND_WORKER)
    workers = {"WORKERS": 2} if mode in MULTI else {}
    server = LiveServer(
        "backend",
        mode,
        PYTHONPATH=f"{folder}:{ROOT}",
        ASYNCLAB_TEST_FIRST_WARM=str(folder / "first"),
        **workers,
    ).start(timeout=60)
    yield mode, server, workers.get("WORKERS", 1)
    server.stop()


def test_each_mode_serves_the_service_and_says_so(backend):
    mode, server, workers = backend
    status, health, _ = server.get("/healthz")
    assert status == 200
    name, interface = SERVER[mode]
    described = health["server"]
    assert (health["server_mode"], health["interface"], described["server"]) == (mode, interface, name)
    assert described["version"] == version(SERVERS[mode].PACKAGES[0]), described
    assert described["packages"] == {package: version(package) for package in SERVERS[mode].PACKAGES}
    assert described["workers"] == workers
    assert health["versions"]["django"].startswith("5.2.")
    for path in ("/api/?task_id=1&delay=0", "/api/async/?task_id=1&delay=0", "/api/db/?task_id=1&delay=0"):
        status, body, _ = server.get(path)
        assert (status, body["task_id"]) == (200, "1"), (path, body)


def test_each_mode_logs_one_startup_line_with_its_exact_command(backend):
    mode, server, _ = backend
    startup = [line for line in lines(server) if line["event"] == "startup"]
    assert len(startup) == 1, server.log()
    line = startup[0]
    assert (line["service"], line["mode"], line["server"]) == ("backend", mode, SERVER[mode][0])
    assert line["version"] == version(SERVERS[mode].PACKAGES[0])
    assert line["command"].startswith(f"-m {MODULE[mode]} ")
    # The command as run: the server's own process line shows the same arguments.
    pid = server.process.pid
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[1:-1]
    assert [part.decode() for part in cmdline] == line["command"].split(" ")


def test_every_worker_is_warm_before_healthz_says_ok(backend):
    mode, server, workers = backend
    warm = [line for line in lines(server) if line["event"] == "warm"]
    assert len({line["pid"] for line in warm}) == len(warm) == workers, server.log()
    healthz = [line["status"] for line in lines(server) if line["event"] == "access" and line["path"] == "/healthz"]
    assert healthz[-1] == 200
    if workers > 1:
        # The first worker answered while the other was still warming up: 503, never 500.
        # 499 is the poller's own doing, logged when it gave up waiting on a busy machine.
        assert 503 in healthz and set(healthz) <= {503, 200, 499}, healthz


def test_telemetry_reports_every_worker_and_the_master(backend):
    mode, server, workers = backend
    time.sleep(2 * 0.25)  # the workers' publishing interval, twice
    warm = {line["pid"]: line["ms"] for line in lines(server) if line["event"] == "warm"}
    status, report, _ = server.get("/telemetry")
    assert status == 200
    assert {w["pid"]: w["warm_ms"] for w in report["workers"]} == warm
    # A master supervises the workers in every mode that has WORKERS; runserver and daphne
    # are one process.
    master = report["master"]
    assert (master is not None) == (mode in MULTI), report
    if master:
        assert master["pid"] == server.process.pid and master["threads"] >= 1
    total = report["total"]
    assert (total["processes"], total["workers"]) == (workers + (mode in MULTI), workers)
    assert total["threads"]["now"] >= total["processes"] and total["cpu_seconds"] > 0
    assert all(w["rss_bytes"]["now"] > 0 for w in report["workers"])


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
