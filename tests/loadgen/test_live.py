"""loadgen against live local servers with a known delay: are its numbers right?

Over 250 lines: each check needs a live server with a known delay beside the figures it must
produce."""

import asyncio
import json
import re
import subprocess
import sys
import time

import aiohttp
import pytest

from harness.live import ROOT, LiveServer, free_port, serve_env
from loadgen import probe
from loadgen.engine import LOCAL
from loadgen.plan import Plan
from loadgen.stats import RESOLUTION


def loadgen(argv: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """`python -m loadgen ARGV` as a user runs it, from the repository, with this environment."""
    return subprocess.run(
        [sys.executable, "-m", "loadgen", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def backend():
    server = LiveServer("backend", "asgi").start()
    yield server
    server.stop()


def run(plan):
    return asyncio.run(LOCAL.run(plan, progress=False))


def test_closed_loop_p50_is_the_delay(known):
    figures = run(
        Plan(
            urls=(known.url + "/api/async/?delay=1",),
            concurrency=5,
            duration=None,
            requests=15,
            warmup=15,
            warmup_requests=True,
        )
    )
    assert figures["requests"] == 15 and figures["errors"] == 0
    # At least the delay; how little more is this machine's speed (bench/loadgen_vs_wrk.py).
    assert figures["p50"] >= 1.0
    assert figures["littles_law"]["holds"], figures["littles_law"]


def test_open_loop_keeps_its_rate(known):
    figures = run(Plan(urls=(known.url + "/api/async/?delay=0.05",), rate=40, duration=4))
    assert figures["rate"]["achieved"] == pytest.approx(40, rel=0.02)
    assert figures["requests"] == 160
    assert figures["p50"] >= 0.05
    # Corrected latency counts from the schedule, so it can only be the larger.
    assert figures["latency"]["p99"] >= figures["latency_uncorrected"]["p99"] * 0.999


def test_a_response_past_the_timeout_is_a_timeout_not_a_gap(known):
    figures = run(
        Plan(urls=(known.url + "/api/async/?delay=1.5",), concurrency=2, duration=None, requests=2, timeout=0.5)
    )
    assert (figures["requests"], figures["timeouts"], figures["errors"], figures["rps"]) == (2, 2, 2, 0)
    # In the histogram as what is known of them: at least the timeout, a lower bound.
    assert figures["latency"]["censored"] == 2 and figures["p50"] >= 0.5
    assert figures["latency"]["lower_bound_from"] <= figures["p50"]


def test_an_error_status_is_an_error_not_throughput(known):
    figures = run(Plan(urls=(known.url + "/api/async/?delay=0.05&status=503",), concurrency=2, duration=1))
    assert figures["rps"] == 0 and figures["ok"] == 0 and figures["errors"] == figures["requests"] > 0
    assert figures["errors_by"] == {"503": figures["requests"]} and figures["statuses"] == {"503": figures["requests"]}
    # Fast failures do not make the latency look good: there is none.
    assert figures["latency"]["count"] == 0 and figures["p50"] is None


def test_successes_alone_make_throughput_and_latency(known):
    ok, bad = known.url + "/api/async/?delay=0.2", known.url + "/api/async/?delay=0&status=500"
    figures = run(Plan(urls=(ok, bad), concurrency=2, duration=2))
    assert figures["ok"] > 0 and figures["errors_by"] == {"500": figures["errors"]} and figures["errors"] > 0
    # Half the answers, the slow half: every latency at least the delay (the minimum reads back as
    # its histogram bucket's lowest value, up to RESOLUTION below: 0.199936 s in one CI run),
    # throughput only theirs.
    assert figures["latency"]["count"] == figures["ok"] and figures["min"] >= 0.2 * (1 - RESOLUTION)
    assert figures["rps"] <= 2 / 0.2


def test_a_slow_response_inside_the_timeout_is_measured(known):
    # wrk's 2 s default would have dropped this one.
    figures = run(Plan(urls=(known.url + "/api/async/?delay=2.3",), concurrency=1, duration=None, requests=1))
    assert (figures["errors"], figures["timeouts"]) == (0, 0)
    assert figures["p50"] >= 2.3


def test_verify_refuses_a_broken_target(serve):
    gateway = serve("gateway", "asgi", BACKEND_URL=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(probe.BrokenTarget, match="3 of 3 calls failed \\(connect\\)"):
        asyncio.run(probe.verify(gateway.url + "/api/aggregated/?n=3&delay=0"))
    with pytest.raises(probe.BrokenTarget, match="HTTP 404"):
        asyncio.run(probe.verify(gateway.url + "/api/nothing/"))
    with pytest.raises(probe.BrokenTarget, match="ClientConnectorError"):
        asyncio.run(probe.verify(f"http://127.0.0.1:{free_port()}/"))


def test_the_cli_refuses_a_broken_target_and_says_why(serve):
    gateway = serve("gateway", "asgi", BACKEND_URL=f"http://127.0.0.1:{free_port()}")
    result = loadgen(
        ["run", gateway.url + "/api/aggregated/?n=2&delay=0", "-n", "5", "--no-drain"],
        serve_env(LOADGEN_RESULTS="/nonexistent"),
    )
    assert result.returncode == 2
    assert "refusing to measure" in result.stderr and "2 of 2 calls failed" in result.stderr


def test_drain_waits_for_a_busy_single_thread(serve):
    backend = serve("backend", "wsgi", THREADS=1)

    async def abandon_then_drain():
        async with aiohttp.ClientSession() as session:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.2):
                    await session.get(backend.url + "/api/?delay=1.5")
        started = time.perf_counter()
        outcome = await probe.drain([(backend.url + "/api/?delay=0", 1)])
        return outcome, time.perf_counter() - started

    outcome, waited = asyncio.run(abandon_then_drain())
    # gunicorn keeps sleeping for the client that left: drain must wait it out.
    assert outcome["drained"] is True
    assert waited >= 1.0


def test_fail_if_and_results_file(backend, tmp_path):
    result = loadgen(
        [
            "run",
            backend.url + "/api/async/?delay=0.01",
            "-n",
            "20",
            "-c",
            "2",
            "--warmup",
            "0",
            "--fail-if",
            "p50<1ms",
            "--fail-if",
            "errors==0",
        ],
        serve_env(LOADGEN_RESULTS=tmp_path, LOADGEN_GATEWAY_URL=backend.url, LOADGEN_BACKEND_URL=backend.url),
    )
    assert result.returncode == 1, result.stderr
    assert "--fail-if p50<1ms: p50 was" in result.stderr and "errors==0" not in result.stderr
    [path] = tmp_path.glob("*-run-asgi.json")
    saved = json.loads(path.read_text())
    assert saved["figures"]["requests"] == 20
    assert saved["environment"]["backend"]["server"]["server"] == "uvicorn"
    assert saved["environment"]["loadgen"]["cpu_count"] >= 1
    # The host's Python has a GIL: the result says so from the workers' own reports.
    assert saved["environment"]["free_threaded"] == {"gateway": False, "backend": False}
    assert saved["environment"]["backend"]["gil"]["workers"]
    assert saved["scenario"]["concurrency"] == 2


def test_a_timed_closed_loop_is_measured_in_steady_state(known):
    # Latency 0.5 s in a 2 s window: starting the window from idle would count ~25 % too
    # little throughput; measured from steady state, Little's law holds.
    figures = run(Plan(urls=(known.url + "/api/async/?delay=0.5",), concurrency=10, duration=2, warmup=0.5))
    assert figures["errors"] == 0
    assert 0.9 <= figures["littles_law"]["ratio"] <= 1.1, figures["littles_law"]


def test_the_window_stretches_to_the_latency(known):
    figures = run(Plan(urls=(known.url + "/api/async/?delay=1",), concurrency=4, duration=1, warmup=1))
    # 3 x the warm-up's latency (~1 s), not the 1 s asked; at most the 6 x duration cap.
    assert 2.9 <= figures["window"] <= 6.0
    assert figures["littles_law"]["holds"], figures["littles_law"]


def test_a_run_through_the_gateway_records_ids_breakdown_and_both_services(serve, tmp_path):
    backend = serve("backend", "asgi")
    gateway = serve("gateway", "wsgi", BACKEND_URL=backend.url)
    result = loadgen(
        ["run", gateway.url + "/api/aggregated/?n=3&delay=0.2", "-n", "12", "-c", "3", "--warmup", "0", "--quiet"],
        serve_env(LOADGEN_RESULTS=tmp_path, LOADGEN_GATEWAY_URL=gateway.url, LOADGEN_BACKEND_URL=backend.url),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "where the time went" in result.stdout and "slowest request ids: lg-" in result.stdout
    figures = json.loads(next(tmp_path.glob("*-run-wsgi.json")).read_text())["figures"]

    b = figures["breakdown"]
    assert b["requests"] == 12
    assert sum(b["parts"].values()) == pytest.approx(b["latency"], rel=1e-6)
    assert b["parts"]["backend"] >= 0.2 and b["parts"]["rest"] >= 0

    # The slowest ids are in both services' logs: the gateway once, the backend once per call.
    slowest = figures["slowest"][0]["request_id"]
    assert [line for line in gateway.log().splitlines() if f'"request_id": "{slowest}"' in line]
    assert sum(f'"request_id": "{slowest}.' in line for line in backend.log().splitlines()) == 3
    assert [s["latency"] for s in figures["slowest"]] == sorted(
        (s["latency"] for s in figures["slowest"]), reverse=True
    )

    services = figures["services"]
    # A counted run's window is the whole run: every request of it is in the services' figures.
    assert services["gateway"]["requests"] == 12 and services["backend"]["requests"] == 36
    assert services["backend"]["in_flight_after"] == 0 and services["gateway"]["in_flight_peak"] >= 3
    assert services["gateway"]["cpu_ms_per_request"] > 0
    assert services["gateway"]["loop_lag_max_ms"] is None and services["backend"]["loop_lag_max_ms"] is not None


def test_the_db_command_measures_each_target_and_names_the_database(serve, tmp_path):
    backend = serve("backend", "asgi")
    gateway = serve("gateway", "asgi", BACKEND_URL=backend.url)
    result = loadgen(
        [
            "db",
            "--levels",
            "2",
            "--targets",
            "db-async,db-adapter-executor",
            "--duration",
            "1s",
            "--warmup",
            "0.2s",
            "--delay",
            "0.05s",
            "--quiet",
        ],
        serve_env(LOADGEN_RESULTS=tmp_path, LOADGEN_GATEWAY_URL=gateway.url, LOADGEN_BACKEND_URL=backend.url),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "database sqlite" in result.stdout
    saved = json.loads(next(tmp_path.glob("*-db-sqlite-asgi.json")).read_text())
    assert [(cell["target"], cell["concurrency"]) for cell in saved["cells"]] == [
        ("db-async", 2),
        ("db-adapter-executor", 2),
    ]
    for cell in saved["cells"]:
        figures = cell["figures"]
        assert figures["requests"] > 0 and figures["errors"] == 0 and figures["partial"] == 0
        # SQLite has no server to count connections; the backend's threads are still sampled.
        assert figures["database"] == {"reported": False}
        assert figures["services"]["backend"]["threads_peak"] > 0


def test_memory_per_thread_and_per_task_are_measured_in_a_child():
    from loadgen import memory

    thread, task = memory.measure("threads", 500), memory.measure("tasks_event", 5000)
    # Resident memory grows with each: more per thread (stack pages, kernel structures) than per task.
    assert thread["bytes_each"] > task["bytes_each"] > 0
    assert memory.measure("threads", 0)["error"].startswith("usage")


def test_two_loadgen_processes_merge_into_one_run(known):
    figures = run(Plan(urls=(known.url + "/api/async/?delay=0.2",), concurrency=6, duration=1.5, warmup=0.5, workers=2))
    processes = figures["loadgen"]["processes"]
    assert figures["loadgen"]["workers"] == len(processes) == 2
    assert figures["requests"] == sum(p["requests"] for p in processes) > 0
    assert figures["errors"] == 0 and figures["p50"] >= 0.2
    assert figures["rps"] == pytest.approx(sum(p["rps"] for p in processes))
    # Each process's ids are its own (one run, a worker suffix), so the logs tell them apart.
    assert all(re.fullmatch(r"lg-[0-9a-f]{6}w[01]-\d+", s["request_id"]) for s in figures["slowest"])
    assert figures["machine"]["cores"] >= 1


def test_two_processes_share_an_open_loop_schedule(known):
    figures = run(Plan(urls=(known.url + "/api/async/?delay=0.05",), rate=40, duration=3, workers=2))
    assert figures["requests"] == 120 == sum(p["requests"] for p in figures["loadgen"]["processes"])
    assert figures["p50"] >= 0.05


def test_the_run_command_records_workers_and_the_machine(known, tmp_path):
    result = loadgen(
        ["run", known.url + "/api/async/?delay=0.05", "-d", "1", "--warmup", "0.3", "-c", "4", "--workers", "2"]
        + ["--no-drain", "--no-verify", "--quiet"],
        serve_env(LOADGEN_RESULTS=tmp_path, LOADGEN_GATEWAY_URL=known.url, LOADGEN_BACKEND_URL=known.url),
    )
    assert result.returncode == 0, result.stderr
    assert "loadgen: 2 processes" in result.stdout and "machine: " in result.stdout
    saved = json.loads(next(tmp_path.glob("*-run-*.json")).read_text())
    assert saved["scenario"]["workers"] == 2 and saved["figures"]["loadgen"]["workers"] == 2
    assert set(saved["environment"]["machine"]) == {"cores", "cpu_model", "cpu_mhz", "kernel", "memory_bytes"}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_result_keeps_its_histogram_in_hdrhistograms_own_encoding(known, tmp_path, workers):
    from hdrh.histogram import HdrHistogram

    result = loadgen(
        [
            "run",
            known.url + "/api/async/?delay=0.02",
            "-n",
            "200",
            "-c",
            "4",
            "--warmup",
            "0",
            "--workers",
            str(workers),
        ]
        + ["--no-drain", "--no-verify", "--quiet"],
        serve_env(LOADGEN_RESULTS=tmp_path, LOADGEN_GATEWAY_URL=known.url, LOADGEN_BACKEND_URL=known.url),
    )
    assert result.returncode == 0, result.stderr
    [path] = tmp_path.glob("*-run-*.json")
    figures = json.loads(path.read_text())["figures"]
    saved = figures["histogram"]
    assert {k: saved[k] for k in ("encoding", "unit", "lowest", "highest", "digits")} == {
        "encoding": "HdrHistogram V2 compressed base64",
        "unit": "us",
        "lowest": 1,
        "highest": 3_600_000_000,
        "digits": 3,
    }
    # Decoded by the HdrHistogram library itself, as any other would: the file's own figures.
    histogram = HdrHistogram.decode(saved["data"])
    assert histogram.get_total_count() == figures["requests"] == 200
    for q, name in ((50, "p50"), (90, "p90"), (99, "p99"), (99.9, "p999")):
        assert histogram.get_value_at_percentile(q) / 1e6 == figures[name], name
    assert histogram.get_max_value() / 1e6 == figures["max"]
    # Compressed: a few hundred bytes for 200 requests, beside a result file of a few KB.
    assert len(saved["data"]) < 2000, len(saved["data"])
