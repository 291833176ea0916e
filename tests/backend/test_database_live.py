"""The database endpoints through live servers in both modes, and their bad input
(pytest style; the in-process Client tests are in test_database.py)."""

import concurrent.futures
import os
import sqlite3
import time

import pytest

from backend.database import SEED_ROWS
from backend.models import Item
from tests.backend.rows import ENDPOINTS, check_rows


def get(server, path, **query):
    from urllib.parse import urlencode

    status, body, headers = server.get(path + ("?" + urlencode(query) if query else ""))
    return status, body


@pytest.mark.parametrize("path", list(ENDPOINTS.values()))
@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"delay": "abc"}, "delay"),
        ({"delay": "-1"}, "delay"),
        ({"delay": "1e999"}, "delay"),
        ({"rows": "0"}, "rows"),
        ({"rows": str(SEED_ROWS + 1)}, "rows"),
        ({"rows": "1; DROP TABLE backend_item"}, "rows"),
        ({"thread_sensitive": "maybe"}, "thread_sensitive"),
        ({"task_id": "' OR 1=1 --"}, "task_id"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(client, path, query, parameter):
    response = client.get(path, query)
    assert response.status_code == 400
    body = response.json()
    assert (body["error"], body["parameter"]) == ("bad_parameter", parameter)
    assert Item.objects.count() == SEED_ROWS


@pytest.mark.parametrize("path", list(ENDPOINTS.values()))
def test_other_methods_are_a_405(client, path):
    assert client.post(path).status_code == 405


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_live_server_migrates_at_start_and_answers_every_endpoint(serve, mode):
    backend = serve("backend", mode, WORKERS=2)
    assert '"event": "migrate"' in backend.log()
    for view, path in ENDPOINTS.items():
        status, body = get(backend, path, delay=0, rows=2)
        assert status == 200, body
        check_rows(body, view, 2)
    status, body = get(backend, "/database")
    assert (status, body["engine"], body["connections"]) == (200, "sqlite", None)


def test_a_restart_on_the_same_file_migrates_nothing_and_keeps_the_rows(serve, tmp_path):
    path = tmp_path / "db.sqlite3"
    first = serve("backend", "wsgi", DB_PATH=path)
    first.stop()
    second = serve("backend", "asgi", DB_PATH=path)
    assert '"applied": []' in second.log()
    assert get(second, "/api/db/", delay=0)[1]["count"] == SEED_ROWS
    assert sqlite3.connect(path).execute("SELECT count(*) FROM backend_item").fetchone()[0] == SEED_ROWS


def test_asgi_thread_sensitive_false_keeps_its_connection_open_across_requests(serve):
    """thread_sensitive=false runs the ORM on the loop's default executor, where Django's
    end-of-request clean-up never reaches: the same connection serves request after request.
    thread_sensitive=true uses the request's own thread, and its connection is closed."""
    backend = serve("backend", "asgi")
    executor = [get(backend, "/api/db/adapter/", delay=0, thread_sensitive="false")[1] for _ in range(3)]
    own = [get(backend, "/api/db/adapter/", delay=0, thread_sensitive="true")[1] for _ in range(3)]
    assert len({body["connection"] for body in executor}) == 1
    assert len({body["connection"] for body in own}) == 3
    assert all(body["thread"] == body["request_thread"] for body in own)
    assert all(body["thread"] != body["request_thread"] for body in executor)


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_concurrent_database_waits_overlap(serve, mode):
    """Five 0.5 s waits in the database at once: each on its own thread and connection."""
    backend = serve("backend", mode)
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        start = time.perf_counter()
        bodies = list(pool.map(lambda _: get(backend, "/api/db/async/", delay=0.5)[1], range(5)))
        elapsed = time.perf_counter() - start
    assert all(body["slept"] == 1 for body in bodies)
    assert elapsed < 5 * 0.5 * 0.8, f"{elapsed:.2f} s: the waits did not overlap"


def test_a_missing_table_is_a_503_not_a_500(serve, tmp_path):
    path = tmp_path / "db.sqlite3"
    backend = serve("backend", "asgi", DB_PATH=path)
    os.remove(path)  # the next connection makes an empty file: no table, no rows
    for path_ in ENDPOINTS.values():
        status, body = get(backend, path_, delay=0)
        assert status == 503, body
        assert body["error"] == "database_error"
        assert "no such table" in body["message"]


def test_an_unreachable_postgres_stops_the_server_at_start_with_a_message(tmp_path):
    from harness.live import LiveServer, free_port

    server = LiveServer(
        "backend",
        "asgi",
        DB="postgres",
        POSTGRES_HOST="127.0.0.1",
        POSTGRES_PORT=free_port(),
        POSTGRES_PASSWORD="unused-in-this-test",
        DB_WAIT=1,
    )
    with pytest.raises(RuntimeError, match="exited 1") as failure:
        server.start()
    assert "database not reachable after 1 s (DB_WAIT)" in str(failure.value)
    server.stop()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DB": "mysql"}, "DB='mysql': choose one of"),
        ({"DB_POOL": "true"}, "Django pools PostgreSQL connections only"),
        ({"DB": "postgres", "DB_POOL": "true", "DB_CONN_MAX_AGE": "60"}, "DB_POOL=true needs DB_CONN_MAX_AGE=0"),
        ({"DB": "postgres", "POSTGRES_PASSWORD_FILE": "/nonexistent/secret"}, "POSTGRES_PASSWORD_FILE="),
    ],
)
def test_bad_database_knobs_stop_the_server_naming_them(env, message):
    from harness.live import LiveServer

    server = LiveServer("backend", "wsgi", **env)
    with pytest.raises(RuntimeError, match="exited 2") as failure:
        server.start()
    assert message in str(failure.value)
    server.stop()


def test_db_none_runs_without_a_database_and_the_db_endpoints_say_so(serve):
    backend = serve("backend", "asgi", DB="none")
    assert '"event": "migrate"' not in backend.log()
    health = backend.get("/healthz")[1]
    assert (health["database"], health["db_signals"]) == (None, "off")
    for path in ENDPOINTS.values():
        status, body = get(backend, path, delay=0)
        assert (status, body["error"]) == (503, "no_database"), path
    status, body = get(backend, "/database")
    assert (status, body["error"]) == (503, "no_database")
    assert get(backend, "/api/async/", delay=0)[0] == 200
