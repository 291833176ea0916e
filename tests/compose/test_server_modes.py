"""Compose tier: every SERVER_MODE through `make up`, once each, in the real image.

For each mode: both services come up healthy, each /healthz names the mode, the server and
its version, and the article's gather cell (n = 10 calls of 1 s to the backend's sync and
async views) answers through both hops. gevent runs with DB=postgres, whose waits it must
make cooperative. Required like the rest of the tier: with no Docker engine these fail.
Each run uses its own compose project and free host ports.
"""

import json
import os
from importlib.metadata import version

import pytest

from asynclab.servers import SERVERS
from harness.live import get_json
from tests.compose.project import isolated, run

pytestmark = pytest.mark.compose

PROJECT = f"asynclabmodes{os.getpid()}"
# The article's gather cell (loadgen/experiments/article.py), with a per-call timeout long
# enough that a server running one request at a time answers every call too.
N, DELAY = 10, 1.0
CELL = f"/api/aggregated/?n={N}&delay={DELAY:g}&timeout=15&target="
# Knobs of the host that would change what is brought up.
HOST_KNOBS = ("SERVER_MODE", "WORKERS", "THREADS", "DB", "DB_POOL", "DJANGO31_THREADS")


def compose(env):
    if run("docker", "compose", "version").returncode == 0:
        return ["docker", "compose"]
    return ["docker-compose"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    env = isolated(PROJECT, str(tmp_path_factory.mktemp("results")), HOST_KNOBS)
    yield env
    run("make", "down", env=env)
    # This project's PostgreSQL volume too: a user's `make down` keeps theirs.
    run(*compose(env), "--profile", "postgres", "down", "--volumes", env=env)


@pytest.fixture(params=list(SERVERS))
def stack(request, lab):
    mode = request.param
    env = {**lab, "DB": "postgres"} if mode == "gevent" else lab
    result = run("make", "up", f"SERVER_MODE={mode}", env=env)
    try:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        yield mode, env, result
    finally:
        run("make", "down", env=env)


def fetch(env, port_knob, path):
    status, body, _ = get_json(f"http://127.0.0.1:{env[port_knob]}{path}", timeout=90)
    assert status == 200, (path, body)
    return body


def health_of(env, service):
    ids = run(*compose(env), "ps", "-q", service, env=env).stdout.split()
    assert len(ids) == 1, ids
    state = json.loads(run("docker", "inspect", ids[0]).stdout)[0]["State"]
    return state["Status"], state["Health"]["Status"]


def test_every_mode_comes_up_healthy_names_its_server_and_gathers(stack):
    mode, env, result = stack
    module = SERVERS[mode]

    startup = [json.loads(line.split("| ", 1)[-1]) for line in result.stdout.splitlines() if '"startup"' in line]
    assert sorted(line["service"] for line in startup) == ["backend", "gateway"], result.stdout
    for line in startup:
        assert (line["mode"], line["server"], line["version"]) == (mode, module.NAME, version(module.PACKAGES[0]))

    for port_knob, service in (("GATEWAY_PORT", "gateway"), ("BACKEND_PORT", "backend")):
        assert health_of(env, service) == ("running", "healthy")
        health = fetch(env, port_knob, "/healthz")
        server = health["server"]
        assert (health["service"], health["server_mode"], health["interface"]) == (service, mode, module.INTERFACE)
        # The image's versions are the host venv's: one requirements.txt pins both.
        assert (server["server"], server["version"]) == (module.NAME, version(module.PACKAGES[0])), server
        assert server["packages"] == {package: version(package) for package in module.PACKAGES}

    for target in ("sync", "async"):
        cell = fetch(env, "GATEWAY_PORT", CELL + target)
        assert (len(cell["responses"]), cell["errors"]) == (N, []), (target, cell["errors"][:3])
        if mode == "gunicorn-sync":
            # One backend process serving one request at a time: the calls queue, each a delay.
            assert cell["fetch_elapsed"] >= N * DELAY, (target, cell["fetch_elapsed"])
        else:
            # Run one after another they would take at least N x DELAY: they overlapped.
            assert cell["fetch_elapsed"] < N * DELAY, (target, cell["fetch_elapsed"])

    if mode == "gevent":
        # psycopg's waits yield under gevent: calls spending their delay in pg_sleep() on
        # one backend worker overlap, through the sync ORM, the async ORM and sync_to_async.
        assert fetch(env, "BACKEND_PORT", "/healthz")["database"]["engine"] == "postgresql"
        for target in ("db", "db-async", "db-adapter"):
            cell = fetch(env, "GATEWAY_PORT", f"/api/aggregated/?n=5&delay=0.5&target={target}")
            assert (len(cell["responses"]), cell["errors"]) == (5, []), (target, cell["errors"][:3])
            assert cell["fetch_elapsed"] < 5 * 0.5, (target, cell["fetch_elapsed"])
