"""Compose tier: the services on every Django the lab runs (DJANGO=..., docs/versions.md).

For each version, `make up DJANGO=<v> SERVER_MODE=asgi` in its own image: /healthz names
that Django (and its asgiref and server), the gateway's gather over the backend's sync and
async views answers, and a feature that version lacks answers 501 JSON naming it, or, for a
knob, stops the service at start naming the knob (exit 2). On 3.1 and 3.2 the article's
timeout is real: ten 1 s sync views run one after another, so calls pass the gateway's 5 s
timeout; from 4.0 (here 4.2) each request has its own thread and they overlap. Required
like the rest of the tier; its own project and free ports.
"""

import os
import time

import pytest

from asynclab.knobs import KNOBS
from harness.live import get_json
from tests.compose import project
from tests.compose.project import isolated

pytestmark = pytest.mark.compose

PROJECT = f"asynclabversions{os.getpid()}"
VERSIONS = KNOBS["DJANGO"].allowed()
HOST_KNOBS = ("SERVER_MODE", "WORKERS", "THREADS", "DB", "DB_POOL", "DJANGO31_THREADS", "LEAN", "DJANGO")
# The Python each version's image runs (docs/versions.md).
PYTHON = {"3.1": "3.9", "3.2": "3.9", "4.2": "3.11", "5.2": "3.11", "6.1": "3.13"}
# What a version lacks, as a view (path -> feature) or as a knob refused at start.
LACKS_VIEW = {"3.1": ("/api/db/async/?delay=0", "async-orm"), "3.2": ("/api/db/async/?delay=0", "async-orm")}
LACKS_KNOB = {
    "3.1": {"DJANGO31_THREADS": "true"},
    "3.2": {"DB": "postgres"},
    "4.2": {"DB": "postgres", "DB_POOL": "true"},
    "6.1": {"LEAN": "true"},
}
# The article's gather cell; GATEWAY_TIMEOUT's default 5 s is the per-call timeout.
ARTICLE = "/api/aggregated/?n=10&delay=1&target=sync&client=article"


def run(*argv, env=None, timeout=900):
    # Building a version's image from nothing takes minutes: a longer bound than the tier's.
    return project.run(*argv, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    env = isolated(PROJECT, str(tmp_path_factory.mktemp("results")), HOST_KNOBS)
    yield env
    run("make", "down", env=env)


@pytest.fixture(params=VERSIONS)
def stack(request, lab):
    version = request.param
    result = run("make", "up", f"DJANGO={version}", "SERVER_MODE=asgi", env=lab)
    try:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        yield version, lab
    finally:
        run("make", "down", env=lab)


def fetch(env, port_knob, path, timeout=60):
    return get_json(f"http://127.0.0.1:{env[port_knob]}{path}", timeout=timeout)


def test_every_version_serves_names_itself_gathers_and_refuses_what_it_lacks(stack):
    version, env = stack
    for port_knob, service in (("GATEWAY_PORT", "gateway"), ("BACKEND_PORT", "backend")):
        status, health, _ = fetch(env, port_knob, "/healthz")
        assert status == 200, health
        versions = health["versions"]
        assert (health["service"], health["interface"]) == (service, "asgi")
        assert versions["django"].startswith(f"{version}."), versions
        assert versions["python"].startswith(f"{PYTHON[version]}."), versions
        assert versions["asgiref"] and health["server"]["version"], health

    for target in ("sync", "async"):
        status, body, _ = fetch(env, "GATEWAY_PORT", f"/api/aggregated/?n=3&delay=0.2&target={target}")
        assert status == 200, body
        assert (len(body["responses"]), body["errors"]) == (3, []), body

    if version in LACKS_VIEW:
        path, feature = LACKS_VIEW[version]
        status, body, headers = fetch(env, "BACKEND_PORT", path)
        assert status == 501 and headers["Content-Type"].startswith("application/json"), body
        assert (body["error"], body["feature"]) == ("not_in_this_django", feature), body
        assert body["django"].startswith(f"{version}."), body

    if version in ("3.1", "3.2", "4.2"):
        # The 501 and gathers above were short: nothing is still running. The article's cell.
        started = time.perf_counter()
        status, body, _ = fetch(env, "GATEWAY_PORT", ARTICLE, timeout=60)
        wall = time.perf_counter() - started
        assert status == 200, body
        timed_out = [error for error in body["errors"] if error["kind"] == "timeout"]
        if version in ("3.1", "3.2"):
            # One shared thread: the tenth 1 s view ends 10 s in, past the 5 s timeout.
            assert timed_out and wall >= 5.0, body
        else:
            assert (len(body["responses"]), timed_out) == (10, []), body
            assert wall < 5.0, "ten 1 s views that overlap end well before ten seconds"


@pytest.mark.parametrize("version", sorted(LACKS_KNOB))
def test_a_knob_a_version_cannot_honour_stops_the_service_at_start(lab, version):
    image = run("make", "-s", "--no-print-directory", "print-django-image", f"DJANGO={version}", env=lab).stdout.strip()
    built = run("make", "--no-print-directory", "build", f"DJANGO={version}", env=lab)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    knobs = [arg for name, value in LACKS_KNOB[version].items() for arg in ("-e", f"{name}={value}")]
    result = run("docker", "run", "--rm", *knobs, image, "backend", timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    named = list(LACKS_KNOB[version])[-1]
    assert f"{named}=" in result.stderr and "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("version", ["3.1"])
def test_a_server_mode_an_image_lacks_stops_it_naming_mode_and_version(lab, version):
    image = run("make", "-s", "--no-print-directory", "print-django-image", f"DJANGO={version}", env=lab).stdout.strip()
    result = run("docker", "run", "--rm", "-e", "SERVER_MODE=granian", image, "backend", timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "SERVER_MODE=granian" in result.stderr and f"Django {version}." in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
