"""GET /api/cpu/?ms=: fixed pure-Python work on the server's thread (backend/cpu.py), its
bounds, and what its answer says (in-process Client, then a live server).

Whether two such requests run at once depends on the interpreter's GIL: the host's Python
has one, so here they never do; the compose tier checks both interpreters the lab builds
(tests/compose/test_freethreaded.py).
"""

import pytest

from backend import cpu


@pytest.mark.parametrize("raw", ["-1", "1001", "abc", "1.5", "05", "", "1e3", "+5"])
def test_ms_outside_the_grammar_or_its_bounds_is_a_400_naming_it(client, raw):
    response = client.get("/api/cpu/", {"ms": raw})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["parameter"] == "ms" and body["error"] == "bad_parameter", body
    if raw not in ("",):
        assert "from 0 to 1000" in body["message"], body


def test_a_repeated_or_unknown_parameter_is_refused(client):
    assert client.get("/api/cpu/?ms=1&ms=2").json()["error"] == "repeated_parameter"
    body = client.get("/api/cpu/?delay=1").json()
    assert (body["error"], body["parameter"], body["parameters"]) == ("unknown_parameter", "delay", ["ms", "trace"])
    assert client.get("/api/cpu/?trace=yes").json()["parameter"] == "trace"


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_other_methods_are_json_405s(client, method):
    response = getattr(client, method)("/api/cpu/")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_the_work_is_fixed_by_ms_and_the_answer_says_what_it_cost(client):
    body = client.get("/api/cpu/", {"ms": "20"}).json()
    assert body["ms"] == 20 and body["iterations"] == 20 * cpu.ITERATIONS_PER_MS
    assert body["checksum"] == cpu.work(body["iterations"])  # the work was done, all of it
    assert body["cpu_ms"] > 0
    # One thread cannot spend more CPU than the time that passed (timer resolution aside).
    assert body["cpu_ms"] <= body["wall_ms"] + 1
    assert body["thread"] and body["pid"]
    assert body["ended"] >= body["started"]


def test_a_trace_is_the_same_work_and_the_stretches_the_thread_ran_it(client):
    body = client.get("/api/cpu/", {"ms": "20", "trace": "true"}).json()
    assert body["checksum"] == cpu.work(20 * cpu.ITERATIONS_PER_MS)
    runs = body["runs"]
    assert runs and all(start <= end for start, end in runs)
    assert all(earlier[1] < later[0] for earlier, later in zip(runs, runs[1:], strict=False))  # apart
    assert body["started"] <= runs[0][0] and runs[-1][1] <= body["ended"]
    assert "runs" not in client.get("/api/cpu/", {"ms": "1"}).json()


def test_no_ms_is_the_default_and_zero_is_no_work(client):
    assert client.get("/api/cpu/").json()["ms"] == cpu.DEFAULT_MS
    body = client.get("/api/cpu/", {"ms": "0"}).json()
    assert (body["iterations"], body["checksum"]) == (0, 0)


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_the_sync_view_runs_on_a_server_thread_not_the_main_one(serve, mode):
    """gunicorn's gthread pool under wsgi, asgiref's executor under asgi: the threads the
    GIL decides about (under asgi the event loop keeps the main thread)."""
    server = serve("backend", mode)
    status, body, headers = server.get("/api/cpu/?ms=5")
    assert status == 200, body
    assert body["thread"] != "MainThread", body
    assert "cpu;dur=" in headers["Server-Timing"]
