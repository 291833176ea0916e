"""A worker killed (kill -9) in the middle of a load, under each server mode, on live
servers with two workers each: its master starts another, the requests it had in flight end
as errors (a status or a cut connection) rather than hanging, and later requests succeed."""

import asyncio
import time
from urllib.parse import urlencode

import pytest

from asynclab import fault
from asynclab.api import STRATEGIES
from harness.live import LiveServer
from loadgen.engine import LOCAL
from loadgen.plan import Plan

MODES = ("wsgi", "asgi", "gevent", "granian")
# Each request holds its worker this long, so the kill finds some in flight.
DELAY = 1.0
# The client's own limit: a request cut by the kill must end as an error long before it.
TIMEOUT = 20.0
# How long a master may take to start the new worker (granian waits 3.5 s before it does).
RESTART = 20.0


@pytest.fixture(scope="module")
def backend():
    server = LiveServer("backend", "asgi").start()
    yield server
    server.stop()


def pids_of(found: list[dict]) -> set[int]:
    return {worker["pid"] for worker in found}


async def replaced(server: LiveServer, killed: int, count: int) -> tuple[set[int], float]:
    """The workers once `count` of them answer again without `killed`, and how long (s) that took."""
    start = time.monotonic()
    while time.monotonic() - start < RESTART:
        try:
            now = pids_of(await asyncio.to_thread(fault.workers, server.url))
        except OSError:
            now = set()
        if len(now) == count and killed not in now:
            return now, time.monotonic() - start
        await asyncio.sleep(0.05)
    raise AssertionError(f"no new worker within {RESTART} s:\n{server.log()[-3000:]}")


def killed_under_load(server: LiveServer, url: str, count: int) -> tuple[dict, dict, set[int], float]:
    """An open loop on `url` for 4 s, one worker killed 1.5 s in: (figures, what was done,
    the workers once one replaced it, and how long after the kill that was)."""

    async def run():
        plan = Plan(urls=(url,), rate=8, duration=4, timeout=TIMEOUT, timeline=True, retry=False)
        load = asyncio.create_task(LOCAL.run(plan, progress=False))
        await asyncio.sleep(1.5)
        done = await asyncio.to_thread(fault.kill_worker, server.url)
        workers, took = await replaced(server, done["killed"], count)
        return await load, done, workers, took

    return asyncio.run(run())


def serving(server: LiveServer, count: int = 2) -> set[int]:
    """The workers once all `count` have published their telemetry (the server answers
    /healthz as soon as its first one is up)."""
    start = time.monotonic()
    while len(found := pids_of(fault.workers(server.url))) < count:
        assert time.monotonic() - start < RESTART, f"{len(found)} of {count} workers up:\n{server.log()[-3000:]}"
        time.sleep(0.1)
    return found


def check(server: LiveServer, url: str) -> None:
    before = serving(server)
    assert len(before) == 2 and before <= set(server.pids())
    figures, done, workers, took = killed_under_load(server, url, len(before))
    killed = done["killed"]
    assert killed in before and done["in_flight"][killed] > 0
    assert killed not in server.pids() and workers - before and workers <= set(server.pids())
    # The requests the kill cut ended, each as a status or a transport error, none by the
    # client's own timeout: nothing hung.
    assert figures["errors"] >= 1, figures["errors_by"]
    assert "timeout" not in figures["errors_by"], figures["errors_by"]
    assert all(kind.isdigit() or kind in ("disconnect", "connect") for kind in figures["errors_by"])
    assert figures["latency"]["max"] < TIMEOUT
    # Later requests all succeed, on the new worker too.
    statuses = [server.get("/healthz")[0] for _ in range(20)]
    assert statuses == [200] * 20
    print(
        f"\n{server.service} {server.mode}: worker {killed} killed with {done['in_flight'][killed]} in flight; "
        f"replaced {took:.1f} s after; {figures['requests']} requests, errors {figures['errors_by']}, "
        f"longest {figures['latency']['max']:.2f} s"
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_killed_backend_worker_is_replaced_and_its_requests_end_as_errors(mode):
    server = LiveServer("backend", mode, WORKERS=2).start()
    try:
        check(server, server.url + f"/api/async/?delay={DELAY:g}")
    finally:
        server.stop()


@pytest.mark.parametrize("mode", MODES)
def test_a_killed_gateway_worker_is_replaced_and_its_requests_end_as_errors(backend, mode):
    server = LiveServer("gateway", mode, WORKERS=2, BACKEND_URL=backend.url).start()
    query = urlencode({"n": 3, "target": "async", "delay": f"{DELAY:g}", "deadline": "5"})
    try:
        check(server, server.url + STRATEGIES["gather"] + "?" + query)
    finally:
        server.stop()


def test_the_busiest_worker_is_killed_and_of_equals_the_newest():
    found = [
        {"pid": 10, "in_flight": {"now": 3}},
        {"pid": 11, "in_flight": {"now": 5}},
        {"pid": 12, "in_flight": {"now": 5}},
    ]
    assert fault.busiest(found) == 12
    assert fault.busiest(found[:1]) == 10


def test_kill_worker_says_why_it_could_not():
    assert fault.main(["kill-worker", "--url", "http://127.0.0.1:9"]) == 1
