"""SERVER_MODE=gevent under the load at which the reference server matrix saw the gateway
answer 500 and 502 in every repeat: the tuned gather (client=auto, aiohttp), twenty at
once, both services under gevent. Every answer a 200 with every call answered."""

import collections
from concurrent.futures import ThreadPoolExecutor

import pytest

from asynclab.api import STRATEGIES

CONCURRENCY = 20
REQUESTS = 200


@pytest.fixture(scope="module")
def gateway():
    from harness.live import LiveServer

    backend = LiveServer("backend", "gevent").start()
    gateway = LiveServer("gateway", "gevent", BACKEND_URL=backend.url).start()
    yield gateway
    gateway.stop()
    backend.stop()


def test_gevent_gateway_under_concurrent_gather_answers_no_5xx(gateway):
    path = STRATEGIES["gather"] + "?n=20&delay=0.05&client=auto"

    def one(_):
        status, body, _ = gateway.get(path, timeout=60)
        return status, len(body.get("errors") or [])

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        outcomes = list(pool.map(one, range(REQUESTS)))
    statuses = collections.Counter(status for status, _ in outcomes)
    assert statuses == {200: REQUESTS}, statuses
    assert sum(failed for _, failed in outcomes) == 0
    assert "attached to a different loop" not in gateway.log()
