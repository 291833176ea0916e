"""Compose tier: the backend on PostgreSQL (DB=postgres), brought up through the Makefile:
real rows, connections that follow load under asgi, DB_POOL's cap and reuse, and the
thread_sensitive=False trap under wsgi. The rest of the stack: test_stack.py.

Required: with no Docker engine these tests fail, they never skip.
"""

import concurrent.futures
import time

import pytest

from harness.live import get_json
from tests.compose import test_stack
from tests.compose.project import run
from tests.compose.test_stack import fetch, inspect, service_container

pytestmark = pytest.mark.compose

# The same module-scoped fixture as test_stack.py's: this module's own project environment,
# brought down (PostgreSQL's volume with it) when the module ends.
stack = test_stack.stack


def database(env):
    return fetch(env, "BACKEND_PORT", "/database")


def wait_for_connections(env, check, timeout=10.0):
    """PostgreSQL's connection count once `check` accepts it (or the last one seen)."""
    deadline = time.monotonic() + timeout
    while True:
        seen = database(env)["connections"]
        if check(seen) or time.monotonic() > deadline:
            return seen
        time.sleep(0.25)


def burst(env, path, count):
    """`count` requests at once; returns their statuses and the largest connection count
    PostgreSQL reported while they were in flight."""
    url = f"http://127.0.0.1:{env['BACKEND_PORT']}{path}"
    statuses, peak = [], 0
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(get_json, url, 60) for _ in range(count)]
        while not all(future.done() for future in futures):
            peak = max(peak, database(env)["connections"]["total"])
            time.sleep(0.1)
        statuses = [future.result()[0] for future in futures]
    return statuses, peak


def test_postgres_serves_real_rows_and_asgi_connections_follow_load_then_close(stack):
    env = {**stack, "DB": "postgres", "SERVER_MODE": "asgi", "HEALTHCHECK_INTERVAL": "1s"}
    result = run("make", "up", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    postgres = inspect(service_container(env, "postgres"))
    assert postgres["State"]["Health"]["Status"] == "healthy"
    assert postgres["Config"]["User"] == "postgres" and postgres["HostConfig"]["ReadonlyRootfs"] is True
    assert any(m["Type"] == "volume" and m["Destination"] == "/var/lib/postgresql/data" for m in postgres["Mounts"])
    assert sorted(n.rsplit("_", 1)[-1] for n in postgres["NetworkSettings"]["Networks"]) == ["data"]
    assert fetch(env, "BACKEND_PORT", "/healthz")["database"]["engine"] == "postgresql"

    for path, view in (("/api/db/", "sync"), ("/api/db/async/", "async"), ("/api/db/adapter/", "adapter")):
        body = fetch(env, "BACKEND_PORT", f"{path}?delay=0.2&rows=3")
        assert (body["view"], body["engine"], body["count"], body["slept"]) == (view, "postgres", 100, 1)
        assert [item["name"] for item in body["items"]] == ["item-001", "item-002", "item-003"]
        assert body["db_elapsed"] >= 0.2  # pg_sleep really ran
    status, body, _ = get_json(f"http://127.0.0.1:{env['BACKEND_PORT']}/api/db/?delay=-1", timeout=10)
    assert (status, body["parameter"]) == (400, "delay")
    through = fetch(env, "GATEWAY_PORT", "/api/aggregated/?n=5&delay=0.1&target=db-async")
    assert len(through["responses"]) == 5 and through["errors"] == []

    idle = wait_for_connections(env, lambda seen: seen["total"] == 0)
    assert idle["total"] == 0 and idle["max"] == 100
    # Under ASGI each request in flight holds a connection of its own, on a thread of its own.
    statuses, peak = burst(env, "/api/db/async/?delay=1.5", 30)
    assert statuses == [200] * 30
    assert peak >= 20, f"PostgreSQL saw at most {peak} connections for 30 requests in flight"
    # CONN_MAX_AGE=0: each closes when its request ends. Nothing is left open.
    assert wait_for_connections(env, lambda seen: seen["total"] == 0)["total"] == 0


def test_db_pool_caps_connections_and_keeps_them_open_for_reuse(stack):
    env = {
        **stack,
        "DB": "postgres",
        "DB_POOL": "true",
        "DB_POOL_MIN_SIZE": "2",
        "DB_POOL_MAX_SIZE": "5",
        "SERVER_MODE": "asgi",
        "HEALTHCHECK_INTERVAL": "1s",
    }
    result = run("make", "up", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert fetch(env, "BACKEND_PORT", "/healthz")["database"]["pool"]["max_size"] == 5
    statuses, peak = burst(env, "/api/db/async/?delay=0.5", 20)
    # 20 requests through 5 pooled connections: they queue for one instead of failing.
    assert statuses == [200] * 20
    assert peak <= 5, f"{peak} connections with a pool of 5"
    after = wait_for_connections(env, lambda seen: seen["by_state"].get("active", 0) == 0)
    assert after["by_state"].get("active", 0) == 0
    assert 1 <= after["total"] <= 5, after  # back in the pool, open and idle
    stats = database(env)["pool_worker"]
    assert stats["pool_max"] == 5 and stats["requests_num"] >= 20, stats


def test_thread_sensitive_false_under_wsgi_leaks_pooled_connections_until_the_pool_is_empty(stack):
    """The db experiment's trap, pinned: each WSGI request runs its async view in a one-off
    event loop, and thread_sensitive=False runs the ORM on that loop's executor thread,
    where Django never gives the connection back. After DB_POOL_MAX_SIZE such requests the
    worker's pool is empty for every view: 503 after DB_POOL_TIMEOUT, never a 500 or a hang."""
    env = {
        **stack,
        "DB": "postgres",
        "DB_POOL": "true",
        "DB_POOL_MIN_SIZE": "0",
        "DB_POOL_MAX_SIZE": "2",
        "DB_POOL_TIMEOUT": "1",
        "SERVER_MODE": "wsgi",
        "HEALTHCHECK_INTERVAL": "1s",
    }
    result = run("make", "up", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    backend = f"http://127.0.0.1:{env['BACKEND_PORT']}"
    for _ in range(2):
        status, body, _ = get_json(f"{backend}/api/db/adapter/?delay=0&thread_sensitive=false", timeout=30)
        assert status == 200 and body["thread"] != body["request_thread"], body
    for path in ("/api/db/adapter/?delay=0&thread_sensitive=false", "/api/db/?delay=0"):
        started = time.monotonic()
        status, body, _ = get_json(backend + path, timeout=30)
        assert (status, body["error"]) == (503, "database_error"), body
        assert "PoolTimeout" in body["message"] and time.monotonic() - started >= 1 - 0.05, "waited DB_POOL_TIMEOUT"
    assert database(env)["pool_worker"]["pool_available"] == 0
