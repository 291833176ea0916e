"""loadgen replicas (loadgen/replicas.py): the wire's checks as units, then real replica
processes on loopback sockets loading a known delay, merged by a real conductor."""

from __future__ import annotations

import asyncio
import json
import math

import pytest

from harness.live import ROOT
from loadgen import handshake, replicas, wire
from loadgen.engine import Replicas as OnReplicas
from loadgen.plan import Plan
from loadgen.stats import Recorder, histogram_of
from loadgen.tally import Tally, snapshot
from tests.loadgen.conftest import Replicas, conversation
from tests.loadgen.test_live import loadgen


def test_a_plan_crosses_the_wire_unchanged():
    plan = Plan(urls=("http://gateway:8000/api/aggregated/?n=1",), concurrency=7, duration=2.5, warmup=0.5)
    assert wire.plan_from_wire(json.loads(json.dumps(wire.plan_to_wire(plan)))) == plan
    counted = Plan(urls=("http://a/",), requests=100, duration=None, rate=20.0, timeline=True)
    assert wire.plan_from_wire(json.loads(json.dumps(wire.plan_to_wire(counted)))) == counted


@pytest.mark.parametrize(
    "change, says",
    [
        ({"shell": "rm -rf /"}, "unknown fields shell"),
        ({"urls": []}, "urls must be"),
        ({"urls": ["file:///etc/passwd"]}, "http(s) URL"),
        ({"concurrency": 10**9}, "at most 100000"),
        ({"concurrency": 0}, "at least 1"),
        ({"concurrency": 2.5}, "whole number"),
        ({"concurrency": "10"}, "must be a number"),
        ({"concurrency": True}, "must be a number"),
        ({"duration": -1}, "at least 0"),
        ({"duration": math.inf}, "finite"),
        ({"timeline": 1}, "true or false"),
        ({"timeout": None}, "may not be null"),
        ({"urls": ["http://a/" + "x" * wire.MAX_URL]}, "longer than"),
    ],
)
def test_a_replica_refuses_a_plan_it_cannot_check(change, says):
    data = {**wire.plan_to_wire(Plan(urls=("http://a/",))), **change}
    with pytest.raises(ValueError, match=says.replace("(", r"\(").replace(")", r"\)")):
        wire.plan_from_wire(data)


def test_times_shift_onto_the_start_and_back():
    part = {"started": 105.0, "window_end": 108.0, "last_done": 107.5, "timeline": [(105.5, 0.1, "ok")]}
    there = wire.shift(part, -100.0)
    assert (there["started"], there["window_end"], there["timeline"][0][0]) == (5.0, 8.0, 5.5)
    assert wire.shift(there, 100.0) == {**part, "timeline": [(105.5, 0.1, "ok")]}


def test_a_part_crosses_the_wire_and_still_merges():
    tally = Tally()
    for ms in (1, 2, 3, 400):
        tally.latency.record(ms / 1000)
    tally.slowest = [(0.4, "lg-x-3", "200")]
    part = snapshot(tally, 0.1, 1.0)
    back = wire.part_from_wire(json.loads(json.dumps(wire.wire_part(part))))
    assert Recorder.decode(back["latency"]).percentile(99.0) == tally.latency.percentile(99.0)
    assert back["slowest"] == [(0.4, "lg-x-3", "200")]


@pytest.fixture(scope="module")
def two(secret):
    pool = Replicas(2, secret)
    yield pool
    pool.stop()


async def on_replicas(replicas_: Replicas, count: int, plan: Plan) -> dict:
    async with replicas.pool(replicas_.at, count, replicas_.secret.read_bytes().strip()) as pool:
        return await OnReplicas(pool).run(plan, progress=False)


def test_two_replicas_share_a_closed_loop_and_merge_exactly(known, two):
    plan = Plan(urls=(known.url + "/api/async/?delay=0.2",), concurrency=6, duration=1.5, warmup=0.5)
    figures = asyncio.run(on_replicas(two, 2, plan))
    processes = figures["loadgen"]["processes"]
    assert sorted(p["node"] for p in processes) == ["node-0", "node-1"]
    assert figures["loadgen"]["replicas"] == 2 and figures["errors"] == 0
    # The merged histogram is the replicas' added: every percentile exact, counts summed.
    added = histogram_of(processes[0]["histogram"])
    added.add(histogram_of(processes[1]["histogram"]))
    merged = histogram_of(figures["histogram"])
    assert merged.get_total_count() == added.get_total_count() == figures["requests"]
    for q in (50.0, 90.0, 99.0, 99.9, 100.0):
        assert merged.get_value_at_percentile(q) == added.get_value_at_percentile(q)
    assert figures["rps"] == pytest.approx(sum(p["rps"] for p in processes))
    # Six clients on a 0.2 s delay: three each, and a delay of at least 0.2 s.
    assert figures["p50"] >= 0.2
    assert all(p["requests"] > 0 for p in processes)


def test_a_single_client_runs_on_one_replica(known, two):
    plan = Plan(urls=(known.url + "/api/async/?delay=0.05",), concurrency=1, duration=0.5)
    figures = asyncio.run(on_replicas(two, 2, plan))
    assert len(figures["loadgen"]["processes"]) == 1 and figures["loadgen"]["replicas"] == 2


def test_an_open_loop_is_shared_by_its_send_schedule(known, two):
    plan = Plan(urls=(known.url + "/api/async/?delay=0.05",), rate=40, duration=2)
    figures = asyncio.run(on_replicas(two, 2, plan))
    assert figures["rate"]["achieved"] == pytest.approx(40, rel=0.1)
    assert [p["requests"] for p in figures["loadgen"]["processes"]] == [40, 40]


def test_the_cli_records_each_replicas_node_in_the_result(known, two, tmp_path):
    env = {
        "PYTHONPATH": str(ROOT),
        "LOADGEN_REPLICAS": "2",
        "LOADGEN_REPLICAS_AT": two.at,
        "LOADGEN_SECRET_FILE": str(two.secret),
    }
    done = loadgen(
        ["run", "-c", "4", "-d", "1s", "--no-drain", "--results", str(tmp_path), known.url + "/api/async/?delay=0.05"],
        env,
    )
    assert done.returncode == 0, done.stderr
    assert "2 replicas" in done.stderr
    (path,) = tmp_path.glob("*.json")
    result = json.loads(path.read_text())
    assert sorted(r["node"] for r in result["environment"]["loadgen"]["replicas"]) == ["node-0", "node-1"]
    assert {p["node"] for p in result["figures"]["loadgen"]["processes"]} == {"node-0", "node-1"}


def test_too_few_replicas_is_a_clear_error_not_a_hang(two):
    with pytest.raises(replicas.ReplicaError, match="names 2 replicas, not 3"):
        asyncio.run(replicas.Pool.connect(two.at, 3, b"x" * 32, timeout=1.0))


@pytest.mark.parametrize(
    "data, says",
    [
        (b"not json\n", "not JSON"),
        (b'{"type": "go"}\n', "expected a plan"),
        (b'{"type": "plan", "plan": {"urls": ["http://a/"], "concurrency": -3}}\n', "concurrency"),
        (b'{"type": "plan", "plan": {"urls": ["http://127.0.0.1/"]}, "share": [5, 2]}\n', "share"),
    ],
)
def test_a_replica_answers_a_proved_conductors_nonsense_with_an_error_and_serves_on(two, data, says):
    key = two.secret.read_bytes().strip()
    messages = asyncio.run(conversation(two.ports[0], key, data))
    assert messages[0]["type"] == "hello"
    assert messages[1]["type"] == "error" and says in messages[1]["error"]
    assert asyncio.run(conversation(two.ports[0], key, b'{"type": "bye"}\n'))[0]["type"] == "hello"


def test_a_busy_replica_tells_a_second_proved_conductor_so(two):
    key = two.secret.read_bytes().strip()

    async def both() -> None:
        first = await replicas.Pool.connect(two.at.split(",")[0], 1, key, timeout=5)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", two.ports[0])
            try:
                await handshake.prove(reader, writer, key, 10)
            finally:
                writer.close()
        finally:
            await first.close()

    with pytest.raises(handshake.Busy, match="serves another conductor"):
        asyncio.run(both())
