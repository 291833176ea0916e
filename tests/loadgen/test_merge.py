"""Several loadgen processes' figures merged into one: exact, never averaged."""

import random

import pytest

from loadgen import figures as figures_module
from loadgen.engine import merged
from loadgen.plan import Plan, Share, processes_for
from loadgen.stats import Recorder
from loadgen.tally import Tally, snapshot

DRAWS = {
    "lognormal": lambda rng: rng.lognormvariate(-3, 1.2),
    # Mostly fast, with a rare very slow tail: where averaged percentiles go most wrong.
    "long tail": lambda rng: rng.expovariate(1 / 0.01) if rng.random() < 0.99 else rng.uniform(1, 30),
    "bimodal": lambda rng: rng.gauss(0.05, 0.005) if rng.random() < 0.7 else rng.gauss(0.8, 0.1),
}


def figures_of(recorder):
    h = recorder.histogram
    return (
        [recorder.percentile(q) for q in (50, 90, 99, 99.9)],
        h.get_max_value(),
        h.get_min_value(),
        recorder.count,
    )


@pytest.mark.parametrize("name", DRAWS)
@pytest.mark.parametrize("k", [2, 3, 7])
def test_merged_histograms_have_exactly_the_percentiles_of_one(name, k):
    rng = random.Random(k)
    values = [max(1e-6, DRAWS[name](rng)) for _ in range(30_000)]
    whole, parts = Recorder(), [Recorder() for _ in range(k)]
    for value in values:
        whole.record(value)
        # Uneven parts, as processes that did unequal shares of the work.
        parts[min(k - 1, int(rng.random() ** 2 * k))].record(value)
    merged = Recorder()
    for part in parts:
        # Through the encoding, as between processes.
        merged.add(Recorder.decode(part.encode()))
    assert figures_of(merged) == figures_of(whole)
    assert merged.summary()["mean"] == pytest.approx(whole.summary()["mean"])


def test_shares_split_evenly_and_cover_everything():
    assert [Share(i, 3).part(50) for i in range(3)] == [17, 17, 16]
    # Every closed-loop worker, counted request and open-loop send slot exactly once.
    for total in (1, 7, 50, 101):
        for of in (1, 2, 3, 5):
            seen = sorted(x for i in range(of) for x in Share(i, of).indices(total))
            assert seen == list(range(total))
            assert sum(Share(i, of).requests(total, 10) for i in range(of)) == total
    # Requests follow the workers: 3 and 2 workers of 5 get 3/5 and 2/5 of them.
    assert [Share(i, 2).requests(50, 5) for i in range(2)] == [30, 20]


def test_processes_never_outnumber_the_work():
    assert processes_for(Plan(urls=("u",), concurrency=2, workers=4)) == 2
    assert processes_for(Plan(urls=("u",), concurrency=10, requests=3, workers=4)) == 3
    assert processes_for(Plan(urls=("u",), rate=5, workers=4)) == 4


def tally(latencies, start, end, status=200, error=None):
    t = Tally(started=start, window_end=end)
    for i, latency in enumerate(latencies):
        t.add(start, start, start + latency, status, error, partial=False, request_id=f"r{start}-{i}")
    t.sent = len(latencies)
    return t


def test_merged_figures_sum_counts_and_rates_and_keep_the_slowest():
    a = tally([0.1] * 30 + [2.0], 0.0, 10.0)
    b = tally([0.2] * 20 + [3.0, 1.5], 0.01, 10.01)
    b.add(0.01, 0.01, 0.5, None, "timeout", False, "rt")
    parts = [snapshot(a, cpu=1.0, wall=10.0), snapshot(b, cpu=9.0, wall=10.0)]
    f = merged(Plan(urls=("u",), concurrency=4, workers=2), parts)
    assert f["requests"] == 31 + 23 == sum(p["requests"] for p in f["loadgen"]["processes"])
    assert f["statuses"] == {"200": 53} and f["error_kinds"] == {"timeout": 1}
    assert f["rps"] == pytest.approx(3.1 + 2.2)
    assert f["max"] == pytest.approx(3.0, rel=1e-3)
    assert [s["latency"] for s in f["slowest"]][:3] == pytest.approx([3.0, 2.0, 1.5])
    assert len(f["slowest"]) == 5
    # CPU in cores over both, saturation judged per process.
    assert f["loadgen"]["cpu_share"] == pytest.approx(1.0)
    assert f["loadgen"]["busiest_share"] == pytest.approx(0.9) and f["loadgen"]["saturated"]
    assert f["loadgen"]["workers"] == 2
    assert f["littles_law"]["concurrency"] == 4


def test_local_workers_share_one_container_and_each_replica_has_its_own():
    # Local worker processes each read their one container whole; replicas name their hosts.
    local = [{"window_container_cpu_seconds": 3.0}, {"window_container_cpu_seconds": 3.2}]
    assert figures_module.containers_cpu(local) == 3.2
    replicas = [
        {"host": "a", "window_container_cpu_seconds": 1.0},
        {"host": "b", "window_container_cpu_seconds": 2.0},
    ]
    assert figures_module.containers_cpu(replicas) == 3.0
    assert figures_module.containers_cpu([*replicas, {"host": "c", "window_container_cpu_seconds": None}]) is None
