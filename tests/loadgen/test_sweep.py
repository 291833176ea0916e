"""The sweep: repeats interleaved, the median run and its spread, several clients, what
bounded each cell (through live servers where the set-up makes the answer certain), and
the report's naive/tuned pairs.

Over 250 lines: the sweep's repeats, spread, clients and bounds each need their own live
set-up."""

import asyncio
import json
import os
import subprocess
import sys

import pytest

from loadgen import bounds, budgets
from loadgen import lab as lab_module
from loadgen.cli import build_parser
from loadgen.experiments import sweep
from loadgen.lab import Lab
from loadgen.report import render
from loadgen.sections import sweep as sweep_shown
from tests.loadgen.test_report import environment as result_environment
from tests.loadgen.test_report import figures as report_figures


def run_figures(rps, p50=0.2, p99=0.4):
    return {"rps": rps, "p50": p50, "p99": p99}


def test_the_headline_is_the_median_run_by_throughput():
    runs = [run_figures(12.0, p50=0.3), run_figures(10.0, p50=0.5), run_figures(14.7, p50=0.2)]
    assert sweep.median_repeat(runs) is runs[0]
    # An even count: the lower middle run, a real one (its latency and telemetry belong together).
    assert sweep.median_repeat(runs[:2]) is runs[1]
    assert sweep.median_repeat(runs[:1]) is runs[0]


def test_the_spread_is_the_range_over_the_median():
    runs = [run_figures(10.1, p99=1.0), run_figures(11.7, p99=1.0), run_figures(14.7, p99=1.2)]
    got = sweep.spread(runs)
    assert got["rps"] == pytest.approx((14.7 - 10.1) / 11.7)
    assert got["p50"] == 0 and got["p99"] == pytest.approx(0.2)
    assert sweep.spread([run_figures(5.0, p50=None)])["p50"] is None
    assert sweep.spread([run_figures(5.0)]) == {"rps": 0.0, "p50": 0.0, "p99": 0.0}


def test_a_wide_spread_is_flagged_with_its_size():
    cell = {"figures": report_figures(10.0, 0.2, 0.4), "repeats": [run_figures(r) for r in (10.0, 11.0, 12.53)]}
    assert "spread 23 %" in sweep_shown.notes(cell)
    steady = {"figures": report_figures(10.0, 0.2, 0.4), "repeats": [run_figures(r) for r in (10.0, 10.5, 10.9)]}
    assert not any(note.startswith("spread") for note in sweep_shown.notes(steady))


def test_a_congested_cell_says_so_with_its_spread_and_the_calm_ones_are_held_to_the_target():
    full = {"bound_by": "backend CPU", "clear": True}
    calm = {"bound_by": "the delay", "clear": True}
    cells = [
        {
            "figures": report_figures(10.0, 0.2, 0.4),
            "repeats": [run_figures(r) for r in (8.0, 10.0, 11.0)],
            "bound": full,
        },
        {
            "figures": report_figures(10.0, 0.2, 0.4),
            "repeats": [run_figures(r) for r in (9.9, 10.0, 10.3)],
            "bound": calm,
        },
        {
            "figures": report_figures(10.0, 0.2, 0.4),
            "repeats": [run_figures(r) for r in (9.0, 10.0, 10.0)],
            "bound": calm,
        },
    ]
    assert "spread 30 % (congested: backend CPU)" in sweep_shown.notes(cells[0])
    assert sweep_shown.spread_target(cells) == (
        "1 of 2 cells that were not congested kept their throughput spread within 5 % (the widest 10 %)."
    )


def test_repeats_run_interleaved_and_every_client_with_every_strategy(monkeypatch, tmp_path):
    order = []

    async def measure(lab, plan, label, allow_errors=False):
        order.append(label)
        return report_figures(10.0 + len(order), 0.2, 0.4)

    async def environment(lab):
        return result_environment("asgi", "2026-01-01T00:00:00+00:00")

    monkeypatch.setattr(sweep, "measure", measure)
    monkeypatch.setattr(sweep, "environment", environment)
    lab = Lab(gateway="http://gw", backend="http://be", results=tmp_path, progress=False)
    result = asyncio.run(
        sweep.run(lab, levels=(1, 10), strategies=("gather", "threadpool"), clients=("article", "aiohttp"), repeat=3)
    )
    # threadpool has no aiohttp client: skipped. A B C A B C, never A A A B B B.
    cells = ["gather/article c=1", "gather/article c=10", "gather/aiohttp c=1", "gather/aiohttp c=10"]
    cells += ["threadpool/article c=1", "threadpool/article c=10"]
    assert order == [f"sweep {cell} [{r}/3]" for r in (1, 2, 3) for cell in cells]
    assert [f"{c['strategy']}/{c['client']} c={c['concurrency']}" for c in result["cells"]] == cells
    first = result["cells"][0]
    assert [f["rps"] for f in first["repeats"]] == [11.0, 17.0, 23.0]
    assert first["figures"]["rps"] == 17.0
    assert first["spread"]["rps"] == pytest.approx(12 / 17)
    assert first["bound"]["ideal"] == {"latency": 0.1, "rps": 10.0}
    assert all(cell["bound"]["bound_by"] in bounds.VERDICTS for cell in result["cells"])
    assert "client=aiohttp" in result["cells"][2]["url"]
    assert result["scenario"]["repeat"] == 3 and result["scenario"]["clients"] == ["article", "aiohttp"]
    assert "spread 71 %" in sweep_shown.table(result)


def test_open_loop_cells_run_at_their_rates_long_enough_for_a_p99(monkeypatch, tmp_path):
    plans = {}

    async def measure(lab, plan, label, allow_errors=False):
        plans[label] = plan
        return report_figures(5.0, 0.2, 0.4)

    async def environment(lab):
        return result_environment("asgi", "2026-01-01T00:00:00+00:00")

    monkeypatch.setattr(sweep, "measure", measure)
    monkeypatch.setattr(sweep, "environment", environment)
    lab = Lab(gateway="http://gw", backend="http://be", results=tmp_path, progress=False)
    result = asyncio.run(
        sweep.run(
            lab,
            levels=(20,),
            strategies=("gather",),
            clients=("article", "auto"),
            rates=(5.0, 50.0),
            rate_clients=("auto",),
            duration=3.0,
        )
    )
    # The article's client closed loop only; the tuned one both ways.
    assert list(plans) == [
        "sweep gather/article c=20",
        "sweep gather/auto c=20",
        "sweep gather/auto 5/s",
        "sweep gather/auto 50/s",
    ]
    # 100 samples at least: 20 s at 5/s; 3 s (the asked window) is enough at 50/s only with 150.
    assert (plans["sweep gather/auto 5/s"].rate, plans["sweep gather/auto 5/s"].duration) == (5.0, 20.0)
    assert plans["sweep gather/auto 50/s"].duration == 3.0 and plans["sweep gather/article c=20"].rate is None
    assert [c["rate"] for c in sweep_shown.opened(result)] == [5.0, 50.0]
    assert [c["concurrency"] for c in sweep_shown.closed(result)] == [20, 20]
    assert sweep_shown.opened(result)[0]["bound"]["ideal"]["rps"] == 5.0
    table = sweep_shown.table(result)
    assert "open loop (latency from each request's intended send" in table and "closed loop" in table


def test_clients_take_a_list_and_client_stays_a_single_client_alias(monkeypatch):
    def parse(argv, **env):
        for key in ("LOADGEN_CLIENT", "LOADGEN_CLIENTS", "LOADGEN_REPEAT"):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return build_parser().parse_args(["sweep", *argv])

    assert (parse([]).clients, parse([]).repeat) == (("article",), 1)
    assert parse(["--clients", "article,auto"]).clients == ("article", "auto")
    assert parse(["--client", "aiohttp"]).clients == ("aiohttp",)
    assert parse([], LOADGEN_CLIENTS="article auto").clients == ("article", "auto")
    assert parse([], LOADGEN_CLIENT="context").clients == ("context",)
    assert parse([], LOADGEN_CLIENT="context", LOADGEN_CLIENTS="auto").clients == ("auto",)
    assert parse(["--clients", "auto"], LOADGEN_CLIENT="context").clients == ("auto",)
    assert parse([], LOADGEN_REPEAT="3").repeat == 3
    with pytest.raises(SystemExit):
        parse(["--client", "article,auto"])


def repeated_result(mode, naive, tuned):
    """A sweep result in the new form: two clients, three runs per cell."""
    cells = []
    for client, rps in (("article", naive), ("auto", tuned)):
        for concurrency in (10, 50):
            runs = [report_figures(rps * concurrency / 10 * k, 0.2, 0.4) for k in (0.9, 1.0, 1.05)]
            cells.append(
                {
                    "strategy": "gather",
                    "client": client,
                    "concurrency": concurrency,
                    "figures": runs[1],
                    "repeats": runs,
                    "spread": sweep.spread(runs),
                }
            )
    return {
        "experiment": "sweep",
        "environment": result_environment(mode, "2026-01-02T00:00:00+00:00"),
        "scenario": {"n": 10, "delay": 0.1, "duration": 5, "warmup": 1, "target": "sync", "repeat": 3},
        "cells": cells,
    }


def test_the_report_shows_medians_spreads_bounds_and_the_naive_tuned_pairs(tmp_path):
    for mode, naive, tuned in (("wsgi", 20.0, 30.0), ("asgi", 25.0, 75.0)):
        (tmp_path / f"20260102T000000-sweep-{mode}.json").write_text(json.dumps(repeated_result(mode, naive, tuned)))
    text = render(tmp_path).read_text()
    assert "Every cell ran 3 times, interleaved" in text
    assert "| gather | auto | 50 | 100 | 375.0 | 15 % / 0 % / 0 % |" in text
    assert "spread 15 %" in text
    # wsgi 20 -> 30 (1.5x), asgi 25 -> 75 (3x); asgi/wsgi 1.25x with the article's client, 2.5x tuned.
    assert "| gather | 10 | auto | 20.0 | 30.0 | 1.50x | 25.0 | 75.0 | 3.00x | 1.25x | 2.50x |" in text
    assert "### Naive and tuned client" in text
    for name in ("sweep-throughput.png", "sweep-latency.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- the verdict through live servers, where the set-up makes it certain ------------------


def live_sweep(gateway, backend, tmp_path, clients=("auto",), **kw):
    lab = Lab(gateway=gateway.url, backend=backend.url, results=tmp_path, progress=False)
    return asyncio.run(sweep.run(lab, strategies=("gather",), clients=clients, **kw))


def test_a_single_threaded_wsgi_backend_is_the_bound(serve, tmp_path):
    # One backend thread serves 1 / delay calls per second: 2 aggregations in flight of 2
    # calls each want 4 at once, so the thread is always busy and far from the ideal.
    backend = serve("backend", "wsgi", THREADS=1)
    gateway = serve("gateway", "asgi", BACKEND_URL=backend.url)
    result = live_sweep(gateway, backend, tmp_path, levels=(2,), n=2, delay=0.1, duration=2.0, warmup=0.5)
    [cell] = result["cells"]
    assert cell["figures"]["errors"] == 0
    assert cell["bound"]["bound_by"] == "backend threads", cell["bound"]
    assert cell["bound"]["services"]["backend"]["threads"]["pool"] == 1


def test_one_request_at_a_time_with_a_long_delay_is_bound_by_the_delay(serve, tmp_path):
    # c = 1, two overlapping calls of 1 s: anything but the delay would have to cost 250 ms
    # per aggregation to miss 80 % of the ideal.
    backend = serve("backend", "asgi")
    gateway = serve("gateway", "asgi", BACKEND_URL=backend.url)
    result = live_sweep(gateway, backend, tmp_path, levels=(1,), n=2, delay=1.0, duration=2.0, warmup=1.0)
    [cell] = result["cells"]
    assert cell["figures"]["errors"] == 0
    assert cell["bound"]["bound_by"] == "the delay", cell["bound"]


def test_the_articles_client_at_c50_is_bound_by_the_gateways_cpu(serve, tmp_path):
    # A new httpx client per aggregation costs the gateway's one worker tens of ms of CPU
    # (its TLS context alone), several times what the ten calls cost the backend: at c = 50
    # (an ideal of 500/s) its core is full long before the delay or the backend is.
    backend = serve("backend", "asgi")
    gateway = serve("gateway", "asgi", BACKEND_URL=backend.url)
    result = live_sweep(
        gateway, backend, tmp_path, clients=("article",), levels=(50,), n=10, delay=0.1, duration=3.0, warmup=1.0
    )
    [cell] = result["cells"]
    assert cell["figures"]["errors"] == 0
    bound = cell["bound"]
    assert (bound["bound_by"], bound["clear"]) == ("gateway CPU", True), bound
    assert bound["cpu_split"]["gateway_over_backend"] > 1, bound["cpu_split"]


def test_a_cpu_burner_on_the_host_makes_a_cell_neighbours_not_a_service(serve, tmp_path):
    # A cell bound by its delay (2 aggregations of 2 calls of 0.2 s: the lab barely works),
    # while processes outside the lab spin on every core for the whole cell and its re-runs.
    backend = serve("backend", "asgi")
    gateway = serve("gateway", "asgi", BACKEND_URL=backend.url)
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 1)]
    try:
        result = live_sweep(gateway, backend, tmp_path, levels=(2,), n=2, delay=0.2, duration=2.0, warmup=0.5)
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    [cell] = result["cells"]
    bound, figures = cell["bound"], cell["figures"]
    assert bound["bound_by"] == "neighbours", bound
    assert bound["host_busy"] - bound["lab_busy"] >= budgets.NEIGHBOURS
    # Measured again while it stayed disturbed, then kept and marked, left out of rankings.
    assert len(figures["reruns"]["disturbed"]) == 1 + lab_module.RERUNS and not figures["reruns"]["clean"]
    assert figures["disturbed"]["neighbours"] >= budgets.NEIGHBOURS
    assert "DISTURBED" in sweep_shown.table(result)
