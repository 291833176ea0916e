"""Compose tier: the services on CPython 3.14 with the GIL and without it (PYTHON=3.14 and
3.14t, docs/versions.md), each in wsgi (gunicorn gthread) and asgi (uvicorn).

On each: every worker of both services reports the GIL it really runs with (on for 3.14,
off for 3.14t), and two /api/cpu requests at once on one backend worker with two threads
overlap only without the GIL: their CPU time together exceeds the span they took, which
one core at a time cannot do. A property of the interpreter, not of the machine's speed;
only a neighbour holding a core for the whole of every try could hide the overlap, so the
free-threaded build gets three tries, and the GIL build must never overlap in any.

Then the trap the lab guards against: a free-threaded build whose imports turn the GIL back
on (a C extension without Py_mod_gil, or PYTHON_GIL=1) says so in its log and its health,
and neither it nor loadgen calls it free-threaded. Required like the rest of the tier.

Over 250 lines: two interpreters times two modes, each checked on every worker of both
services.
"""

import json
import os
import shutil
import subprocess
import threading
import time

import pytest

from asynclab.knobs import KNOBS
from harness.live import free_port, get_json
from loadgen.probe import free_threaded
from tests.compose import project
from tests.compose.project import isolated

# Four stacks and the images' builds: more than the tier's default per test.
pytestmark = [pytest.mark.compose, pytest.mark.timeout(1800)]

PROJECT = f"asynclabft{os.getpid()}"
PYTHONS = KNOBS["PYTHON"].allowed()
HOST_KNOBS = ("SERVER_MODE", "WORKERS", "THREADS", "DB", "DB_POOL", "DJANGO31_THREADS", "LEAN", "DJANGO", "PYTHON")
# Long enough that the start of the second request inside its server does not decide it.
CPU_MS = 300
TRIES = 3


def run(*argv, env=None, timeout=2400):
    # The interpreters' bases build from source when they are not here (docs/versions.md).
    return project.run(*argv, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    env = isolated(PROJECT, str(tmp_path_factory.mktemp("results")), HOST_KNOBS)
    # A healthcheck is a Python process: one a second on a loaded machine slows the very
    # start it waits for (the interpreters here have no PGO), past the 30 s start period.
    env["HEALTHCHECK_INTERVAL"] = "3s"
    yield env
    run("make", "down", env=env)


@pytest.fixture(scope="module", params=[(p, m) for p in PYTHONS for m in ("wsgi", "asgi")], ids=lambda p: "-".join(p))
def stack(request, lab):
    python, mode = request.param
    # Two gateway workers (each must say), one backend worker with two threads (the overlap).
    knobs = [f"PYTHON={python}", f"SERVER_MODE={mode}", "GATEWAY_WORKERS=2", "BACKEND_WORKERS=1"]
    knobs += ["BACKEND_THREADS=2"] if mode == "wsgi" else []
    result = run("make", "up", *knobs, env=lab)
    if result.returncode != 0 and "unhealthy" in result.stderr + result.stdout:
        # A start slower than the healthcheck's start period on a machine others load: once more.
        run("make", "down", env=lab)
        result = run("make", "up", *knobs, env=lab)
    try:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        yield python, mode, lab
    finally:
        run("make", "down", env=lab)


def fetch(env, port_knob, path, timeout=60):
    return get_json(f"http://127.0.0.1:{env[port_knob]}{path}", timeout=timeout)


def test_every_worker_reports_the_gil_it_runs_with(stack):
    python, mode, env = stack
    without = python.endswith("t")
    for port_knob, service, workers in (("GATEWAY_PORT", "gateway", 2), ("BACKEND_PORT", "backend", 1)):
        status, health, _ = fetch(env, port_knob, "/healthz")
        assert status == 200, health
        assert (health["service"], health["interface"]) == (service, mode)
        assert health["versions"]["python"].startswith("3.14.") and health["versions"]["django"].startswith("6.1.")
        gil = health["gil"]
        assert gil["free_threaded_build"] is without, health
        assert health["gil_enabled"] is (not without), health
        assert list(gil["workers"].values()) == [not without] * workers, health
        assert (gil["free_threaded"], gil["reenabled_by"]) == (without, None), health
        assert free_threaded(health) is without
        status, telemetry, _ = fetch(env, port_knob, "/telemetry")
        assert [worker["gil_enabled"] for worker in telemetry["workers"]] == [not without] * workers, telemetry
    # And the lab works on it: the gateway's gather over the backend's sync view.
    status, body, _ = fetch(env, "GATEWAY_PORT", "/api/aggregated/?n=3&delay=0.2&target=sync")
    assert status == 200 and (len(body["responses"]), body["errors"]) == (3, []), body


def overlap(first, second):
    """Seconds during which both threads were computing, from their traces' stretches."""
    return sum(max(0.0, min(a[1], b[1]) - max(a[0], b[0])) for a in first for b in second)


def two_at_once(env):
    answers, errors = [], []

    def call():
        try:
            status, body, _ = fetch(env, "BACKEND_PORT", f"/api/cpu/?ms={CPU_MS}&trace=true")
            (answers if status == 200 else errors).append(body)
        except OSError as exc:
            errors.append(repr(exc))

    callers = [threading.Thread(target=call) for _ in range(2)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert errors == [] and len(answers) == 2, errors
    first, second = (answer["runs"] for answer in answers)
    running = min(sum(end - start for start, end in runs) for runs in (first, second))
    span = max(a["ended"] for a in answers) - min(a["started"] for a in answers)
    # The share of the shorter one's running time the other was running too (0 with a GIL,
    # whatever the machine's load), and the cores' worth of CPU the pair used over its span.
    return {
        "overlap": round(overlap(first, second) / running, 3) if running else 0.0,
        "cores": round(sum(a["cpu_ms"] for a in answers) / 1000 / span, 3),
        "threads": sorted(a["thread"] for a in answers),
    }, answers


def test_two_cpu_requests_on_one_worker_overlap_only_without_the_gil(stack):
    """Two requests at once on one backend worker with two threads: each notes when it was
    computing (trace=true); with the GIL those stretches never overlap, without it they do
    whenever the kernel gives the two threads a core each at once. On a loaded machine that
    is a small share of the time, not all of it (4-5 % with the machine's load at 15, when
    300 ms of work took 4-5 s; the pair's cores' worth is printed beside), so the
    free-threaded build must show an overlap of at least 1 % of its running time in one of
    three tries, and the GIL build none in any (it measured exactly 0 beside it)."""
    python, _, env = stack
    tries = []
    for _ in range(TRIES):
        found, answers = two_at_once(env)
        assert len({a["pid"] for a in answers}) == 1 and all(a["gil_enabled"] is (python == "3.14") for a in answers)
        assert len(found["threads"]) == 2, found
        tries.append(found)
        if python.endswith("t") and found["overlap"] >= 0.01:
            break
    if python.endswith("t"):
        assert max(t["overlap"] for t in tries) >= 0.01, tries
    else:
        # A thread's stretch ends at its last note before it lets the GIL go: never a stretch.
        assert max(t["overlap"] for t in tries) <= 0.001, tries
        assert max(t["cores"] for t in tries) <= 1.05, tries


@pytest.fixture(scope="module")
def free_threaded_image(lab):
    """The PYTHON=3.14t image, built (it is, once the stacks above ran) and named by make."""
    name = run("make", "-s", "--no-print-directory", "print-django-image", "PYTHON=3.14t", env=lab).stdout.strip()
    assert name.endswith(":py3.14t"), name
    built = run("make", "--no-print-directory", "build", "PYTHON=3.14t", env=lab)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    return name


def serve(name, *docker_args, timeout=120):
    """`docker run` the backend of image `name` on a free loopback port until /healthz says
    ok; (its health, its log). The container is removed after."""
    port = free_port()
    started = subprocess.run(
        ["docker", "run", "-d", "-p", f"127.0.0.1:{port}:8000", *docker_args, name, "backend"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 0, started.stderr
    container = started.stdout.strip()
    try:
        deadline, health = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            try:
                status, health, _ = get_json(f"http://127.0.0.1:{port}/healthz", timeout=5)
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        log = subprocess.run(["docker", "logs", container], capture_output=True, text=True, timeout=60)
        return health, log.stdout + log.stderr
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True, timeout=60)


def events(log, name):
    lines = []
    for line in log.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("event") == name:
            lines.append(record)
    return lines


def test_a_free_threaded_service_with_the_gil_turned_on_by_hand_says_so(free_threaded_image):
    health, log = serve(free_threaded_image, "-e", "PYTHON_GIL=1")
    assert health and health["status"] == "ok", log[-3000:]
    assert health["gil_enabled"] is True and health["gil"]["free_threaded_build"] is True, health
    assert (health["gil"]["free_threaded"], health["gil"]["reenabled_by"]) == (False, "PYTHON_GIL=1"), health
    assert free_threaded(health) is False
    assert [line["reenabled_by"] for line in events(log, "gil_reenabled")] == ["PYTHON_GIL=1"], log[-3000:]


EXTENSION = """
#include <Python.h>
/* A module that does not declare Py_mod_gil: importing it turns a free-threaded build's GIL on. */
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "gilwant", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_gilwant(void) { return PyModule_Create(&module); }
"""


def test_a_c_extension_that_turns_the_gil_back_on_is_named_and_the_service_is_not_free_threaded(
    free_threaded_image, tmp_path
):
    """The trap: one import of a C extension that never declared it can run without the
    GIL, somewhere in the service's start, and a 3.14t service measures the GIL build."""
    name = free_threaded_image
    # Built against the image's own headers, with the compiler of its build base.
    headers = subprocess.run(["docker", "create", name], capture_output=True, text=True, timeout=60).stdout.strip()
    try:
        copied = subprocess.run(
            ["docker", "cp", f"{headers}:/usr/local/include/python3.14t", str(tmp_path / "include")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert copied.returncode == 0, copied.stderr
    finally:
        subprocess.run(["docker", "rm", "-f", headers], capture_output=True, timeout=60)
    (tmp_path / "gilwant.c").write_text(EXTENSION)
    # What a site-wide import would do: loaded at every interpreter's start, before the lab's code.
    (tmp_path / "sitecustomize.py").write_text("import gilwant  # noqa\n")
    compiled = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "-v", f"{tmp_path}:/ext", "asynclab-python-build:trixie",
         "gcc", "-shared", "-fPIC", "-O1", "-I/ext/include", "-o", "/ext/gilwant.cpython-314t-x86_64-linux-gnu.so",
         "/ext/gilwant.c"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert compiled.returncode == 0, compiled.stderr
    shutil.rmtree(tmp_path / "include")
    # Readable by the image's own user (pytest's folders are the host user's only).
    for path in (tmp_path, *tmp_path.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    health, log = serve(name, "-v", f"{tmp_path}:/ext:ro", "-e", "PYTHONPATH=/app:/ext")
    assert health and health["status"] == "ok", log[-3000:]
    assert health["gil_enabled"] is True and health["gil"]["free_threaded"] is False, health
    assert health["gil"]["reenabled_by"] == ["gilwant"], health
    assert free_threaded(health) is False
    assert [line["reenabled_by"] for line in events(log, "gil_reenabled")] == [["gilwant"]], log[-3000:]


def test_an_image_of_another_interpreter_than_python_stops_at_start_naming_it(free_threaded_image):
    result = subprocess.run(
        ["docker", "run", "--rm", "-e", "PYTHON=3.14", free_threaded_image, "backend"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "PYTHON=3.14, but this image runs" in result.stderr and "(free-threaded)" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
