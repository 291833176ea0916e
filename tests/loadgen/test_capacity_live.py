"""`loadgen capacity` end to end against a server whose capacity queueing theory gives: one
request at a time, each holding it for a fixed service time s (tests/queue_app.py), so it
carries at most 1 / s a second, and past that every request waits longer than the last."""

import json
import subprocess
import sys

import pytest

from harness.live import ROOT, LiveServer, get_json
from loadgen.report import render
from loadgen.stats import histogram_of
from tests.loadgen.conftest import Replicas

SERVICE = 0.01  # s: 100 requests a second at the very most
LIMIT = 0.1  # the p99 objective: ten service times, well clear of a busy machine's jitter
WARMUP, WINDOW = 0.5, 2.0  # per step; longer where p99's samples need it


@pytest.fixture(scope="module")
def queue():
    server = LiveServer(
        "queue",
        "queue",
        command=[sys.executable, "-m", "uvicorn", "tests.queue_app:app", "--host", "127.0.0.1", "--port", "{port}"]
        + ["--log-level", "warning", "--no-access-log"],
        ready="/healthz",
        QUEUE_SERVICE_TIME=SERVICE,
    ).start()
    yield server
    server.stop()


def capacity(server, results, *flags, timeout=150):
    command = [sys.executable, "-m", "loadgen", "capacity", server.url + "/work", "--gateway", server.url]
    command += ["--backend", server.url, "--results", str(results), "--quiet", "--timeout", "10s", *flags]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def searched(queue, tmp_path_factory):
    """One search of the queue server, shared: (its results folder, its result, the run)."""
    folder = tmp_path_factory.mktemp("capacity")
    done = capacity(
        queue,
        folder,
        f"--slo=p99={LIMIT * 1000:g}ms",
        "--start-rate=30",
        "--max-rate=400",
        "--resolution=10%",
        "--confirm=2",
        f"--warmup={WARMUP}",
        f"--duration={WINDOW}",
        "--max-steps=14",
        "--budget=45s",
    )
    assert done.returncode == 0, done.stderr
    (path,) = folder.glob("*-capacity-*.json")
    return folder, json.loads(path.read_text()), done


def test_the_capacity_of_a_one_request_server_is_under_its_service_rate_and_the_step_above_fails(queue, searched):
    _, result, done = searched
    found, steps = result["capacity"], result["steps"]
    _, stats, _ = get_json(queue.url + "/stats")
    held = stats["held"] / stats["served"]
    print(
        f"\ncapacity {found['rate']:.1f}/s carried at {found['offered']:g}/s offered, spread {found['spread']:.1%} "
        f"over {len(found['runs'])} runs; held {held * 1000:.2f} ms a request; "
        + ", ".join(f"{s['rate']:g}/s {s['phase']} {'met' if s['met'] else 'failed'}" for s in steps)
    )
    assert found["status"] == "found" and found["confirmed"] >= 1
    # Serial service of >= s each: request k of a step at rate r ends no sooner than (k + 1) s,
    # so from its intended send at k / r it waits k (s - 1 / r). Over a warm-up w and a window
    # of at least d, the p99 request is past k = r (w + 0.99 d): p99 <= LIMIT only where
    # r s <= 1 + LIMIT / (w + 0.99 d). No step above that rate may have met the objective.
    ceiling = (1 + LIMIT / (WARMUP + 0.99 * WINDOW)) / SERVICE
    above_ceiling = [s for s in steps if s["rate"] > ceiling]
    # Every step past it failed (the ramp's 120/s is, unless neighbours slowed the server
    # enough to fail 60/s first).
    assert not any(s["met"] for s in above_ceiling), ceiling
    assert found["offered"] <= ceiling
    assert found["failed_first"]["name"] == "p99" and found["failed_first"]["rate"] > found["offered"]
    # It carries no more than one request per service time (one more at the window's edge).
    assert all(run <= (1 + SERVICE / WINDOW) / SERVICE for run in found["runs"])
    # The step above was run once more. Past the ceiling it cannot have met the objective;
    # between the real capacity and the ceiling a busy machine's noise decides, and the
    # result says which it was.
    assert found["above"]["rate"] > found["offered"]
    assert found["above"]["met"] is False or found["above"]["rate"] <= ceiling
    # At 40 % of its real service rate (1 / the time requests held it) nothing queues: the
    # search found at least that, so it did not stop short.
    assert found["offered"] >= 0.4 / held
    # Every step kept its figures and its histogram, each long enough for its p99.
    assert all(s["figures"]["histogram"]["encoding"].startswith("HdrHistogram") for s in steps)
    assert all(s["figures"]["latency"]["count"] >= 100 for s in steps)


def test_the_terminal_the_report_and_compare_show_the_capacity(searched, tmp_path):
    folder, result, done = searched
    found = result["capacity"]
    assert f"capacity: {found['rate']:.1f} aggregations/s carried at {found['offered']:g}/s offered" in done.stdout
    assert render(folder) is not None
    page = (folder / "report.md").read_text()
    assert "## Capacity" in page and "![capacity](capacity.png)" in page
    assert (folder / "capacity.png").stat().st_size > 0 and (folder / "capacity.svg").exists()
    row = next(line for line in page.splitlines() if line.startswith("| queue |"))
    assert f"{found['rate']:.1f}" in row and f"{found['offered']:g}/s" in row
    # Compared with itself: the same capacity, judged on its confirmations' spread.
    (path,) = folder.glob("*-capacity-*.json")
    compared = subprocess.run(
        [sys.executable, "-m", "loadgen", "compare", str(path), str(path), "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert compared.returncode == 0, compared.stderr
    assert f"runs {len(found['runs'])} vs {len(found['runs'])}" in (tmp_path / "compare.md").read_text()
    assert "same within noise" in compared.stdout and "1 same within noise of 1 matched" in compared.stdout


def test_an_objective_the_first_step_misses_exits_2_with_its_figures(queue, tmp_path):
    # 2 ms is less than one service time: no rate meets it.
    done = capacity(queue, tmp_path, "--slo", "p50=2ms", "--start-rate=20", "--duration=0.5", "--warmup=0.2")
    assert done.returncode == 2
    assert "no rate met the objectives: the first step, 20/s, already failed (p50 <= 2.0 ms: " in done.stderr
    (path,) = tmp_path.glob("*-capacity-*.json")
    result = json.loads(path.read_text())
    assert result["capacity"]["status"] == "unreachable" and len(result["steps"]) == 1
    assert result["steps"][0]["figures"]["p50"] >= SERVICE


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--slo", "p98=1s"], "unknown objective"),
        (["--slo", "p99=0ms"], "more than 0"),
        (["--slo", "errors=0"], "more than 0"),
        (["--slo", "p99=1s", "--slo", "p99=2s"], "given twice"),
        (["--slo", "p999=1s", "--start-rate", "0.5"], "raise --start-rate"),
        (["--resolution", "0"], "from 1 % to 50 %"),
        (["--confirm", "10"], "at most 9"),
        (["--start-rate", "500", "--max-rate", "100"], "at most the max rate"),
    ],
)
def test_bad_input_is_refused_with_exit_2_before_any_load(queue, tmp_path, flags, says):
    done = capacity(queue, tmp_path, *flags, timeout=30)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
    assert not list(tmp_path.glob("*.json"))


def test_with_two_workers_every_steps_histogram_is_the_exact_sum_of_theirs(queue, tmp_path):
    # A coarse search (50 %): ramp past the ceiling, one bisection, one confirmation, one above.
    done = capacity(
        queue,
        tmp_path,
        f"--slo=p99={LIMIT * 1000:g}ms",
        "--start-rate=30",
        "--resolution=50%",
        "--confirm=1",
        "--workers=2",
        "--warmup=0.5",
        "--duration=1",
        "--max-steps=8",
    )
    assert done.returncode == 0, done.stderr
    (path,) = tmp_path.glob("*-capacity-*.json")
    result = json.loads(path.read_text())
    for step in result["steps"]:
        figures = step["figures"]
        processes = figures["loadgen"]["processes"]
        assert figures["loadgen"]["workers"] == 2 and len(processes) == 2
        counts = [histogram_of(p["histogram"]).get_total_count() for p in processes]
        assert sum(counts) == histogram_of(figures["histogram"]).get_total_count() == figures["latency"]["count"]
        assert all(counts)
    ceiling = (1 + LIMIT / (0.5 + 0.99 * 1.0)) / SERVICE
    assert not any(s["met"] for s in result["steps"] if s["rate"] > ceiling)
    assert result["capacity"]["status"] == "found" and result["capacity"]["offered"] <= ceiling


def test_a_url_that_errors_at_every_rate_is_refused_with_exit_2_and_no_result(queue, tmp_path):
    command = [sys.executable, "-m", "loadgen", "capacity", queue.url + "/fail", "--gateway", queue.url]
    command += ["--backend", queue.url, "--results", str(tmp_path), "--quiet"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "refusing to measure" in done.stderr and "HTTP 503" in done.stderr
    assert not list(tmp_path.glob("*.json"))


def test_on_two_replicas_every_step_is_both_replicas_histograms_added(queue, secret, tmp_path):
    pool = Replicas(2, secret)
    try:
        done = capacity(
            queue,
            tmp_path,
            f"--slo=p99={LIMIT * 1000:g}ms",
            "--start-rate=30",
            "--resolution=50%",
            "--confirm=1",
            "--warmup=0.5",
            "--duration=1",
            "--max-steps=8",
            "--replicas=2",
            f"--replicas-at={pool.at}",
            f"--secret-file={secret}",
        )
    finally:
        pool.stop()
    assert done.returncode == 0, done.stderr
    (path,) = tmp_path.glob("*-capacity-*.json")
    result = json.loads(path.read_text())
    assert sorted(r["node"] for r in result["environment"]["loadgen"]["replicas"]) == ["node-0", "node-1"]
    for step in result["steps"]:
        figures = step["figures"]
        processes = figures["loadgen"]["processes"]
        assert figures["loadgen"]["replicas"] == 2 and sorted(p["node"] for p in processes) == ["node-0", "node-1"]
        counts = [histogram_of(p["histogram"]).get_total_count() for p in processes]
        assert sum(counts) == histogram_of(figures["histogram"]).get_total_count() == figures["latency"]["count"]
    ceiling = (1 + LIMIT / (0.5 + 0.99 * 1.0)) / SERVICE
    assert not any(s["met"] for s in result["steps"] if s["rate"] > ceiling)
    assert result["capacity"]["status"] == "found"
