"""Compose tier: `make chat` on the real stack, two uvicorn workers, each channel layer.

With the Redis layer a room spans the workers: every member gets every message sent to its
room, whichever worker holds it. With the in-memory layer each worker has its own groups:
members on the other worker than a message's sender never get it, and the result counts
those deliveries as lost (docs/chat.md).
"""

import json
import os

import pytest

from tests.compose.project import isolated, run

pytestmark = pytest.mark.compose

PROJECT = f"asynclabchat{os.getpid()}"
HOST_KNOBS = ("SERVER_MODE", "WORKERS", "THREADS", "CHANNEL_LAYER", "EDGE", "GATEWAY_CPUS", "BACKEND_CPUS")
# 40 members in 2 rooms, 4 senders at 8 messages a second in all, 3 s of sending.
SMALL = {
    "CHAT_MODES": "asgi",
    "CHAT_LAYERS": "memory redis",
    "CHAT_WORKERS": "2",
    # Connected over ~7 s: a worker's inbox stays empty past 5 s, where redis-py's read timeout
    # once met channels_redis's BZPOPMIN and closed a member per worker.
    "CHAT_ARGS": "--members 40 --rooms 2 --senders 4 --message-rate 8 --connect-rate 6 --duration 3s",
}


@pytest.fixture(scope="module")
def chat(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    env = {**isolated(PROJECT, str(results), HOST_KNOBS), **SMALL}
    try:
        done = run("make", "chat", env=env, timeout=900)
    finally:
        run("make", "down", env=env)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    found = {}
    for path in results.glob("*-chat-*.json"):
        saved = json.loads(path.read_text())
        if saved.get("experiment") == "chat":
            found[saved["scenario"]["layer"]] = saved
    return found, results


@pytest.mark.timeout(900)
def test_with_redis_a_room_spans_two_workers_and_nothing_is_lost(chat):
    found, _ = chat
    saved = found["redis"]
    assert saved["scenario"]["server_workers"] == 2
    assert saved["connect"]["connected"] == 40 and saved["messages"]["sent"] > 0
    deliveries = saved["deliveries"]
    assert deliveries["expected"] > 0 and deliveries["delivered"] == deliveries["expected"], deliveries
    assert deliveries["lost"] == 0 and deliveries["extra"] == 0
    # No member closed by the server, no message left unsent.
    assert saved["messages"]["unsent"] == 0 and saved["messages"]["closes"] == {}, saved["messages"]
    # Redis did the groups' work, and says how much: its own CPU and memory, read by the backend.
    redis = saved["server"]["redis"]
    assert redis["cpu_seconds"] > 0 and redis["memory_bytes"] > 0 and redis["clients"] >= 2, redis


@pytest.mark.timeout(900)
def test_in_memory_two_workers_lose_what_the_other_worker_sends_and_the_report_says_so(chat):
    found, results = chat
    saved = found["memory"]
    assert saved["scenario"]["server_workers"] == 2 and saved["connect"]["connected"] == 40
    deliveries = saved["deliveries"]
    # Members land on both workers (the kernel spreads the accepts): some of every message is lost.
    assert 0 < deliveries["lost"] < deliveries["expected"], deliveries
    assert saved["server"]["redis"] is None
    report = (results / "report.md").read_text()
    assert "## Chat" in report, report[:2000]
