"""The gevent worker's greenlet hook: event loops run side by side in greenlets of one OS
thread, as async_to_sync runs them under SERVER_MODE=gevent, each keeping its own running
loop and async-generator hooks. In a child process: gevent's monkey-patching must not
reach the test process."""

import json
import subprocess
import sys

from harness.live import ROOT

# Ten greenlets, each an asyncio.run whose async generators are left open (as an aiohttp
# session's is when a request ends mid-iteration), so each loop's shutdown must close its
# own; the sleeps make them interleave.
CHILD = """
import asyncio, json, sys
from gevent import monkey
monkey.patch_all()
import gevent
from asynclab.servers.workers.gevent import keep_asyncio_state_per_greenlet
if sys.argv[1] == "hook":
    keep_asyncio_state_per_greenlet()
errors = []

async def ticks(owner):
    try:
        while True:
            assert asyncio.get_running_loop() is owner, "another greenlet's loop"
            await asyncio.sleep(0.005)
            yield
    finally:
        await asyncio.sleep(0.005)
        if asyncio.get_running_loop() is not owner:
            errors.append("closed on another loop")

async def request():
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _, context: errors.append(str(context.get("exception") or context["message"])))
    for _ in range(3):
        async for _ in ticks(loop):
            break
    return "ok"

def one():
    try:
        return asyncio.run(request())
    except Exception as error:
        errors.append(repr(error))
        return "failed"

results = [g.value for g in gevent.joinall([gevent.spawn(one) for _ in range(10)], timeout=60)]
print(json.dumps({"results": results, "errors": errors}))
"""


def interleave(mode: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_loops_in_greenlets_each_keep_their_running_loop_and_async_generators():
    outcome = interleave("hook")
    assert outcome["results"] == ["ok"] * 10
    assert outcome["errors"] == []


def test_without_the_hook_the_same_greenlets_break_each_others_loops():
    # The defect the hook fixes, reproduced: proof the test above can fail.
    outcome = interleave("none")
    assert outcome["errors"] or outcome["results"] != ["ok"] * 10
