"""A capacity result as the terminal, the report and `loadgen compare` read it: every status
says what it is (at least, unconfirmed, none), and two capacities are judged on their
confirmations' spreads. The results are made by the search itself, on a known system."""

import asyncio

import pytest

from loadgen import comparison, model, search, slo
from loadgen.results import measured
from loadgen.sections import capacity as shown
from tests.loadgen.test_model import health, searched
from tests.loadgen.test_search import Queue


def result(system, mode="asgi", client="auto", stamp="20261201T000000", **bounds):
    objectives = slo.objectives([slo.parse("p99=500ms")])
    found = asyncio.run(search.search(system, objectives, search.Bounds(**bounds)))
    for step in found["steps"]:
        step["figures"].setdefault("ok", step["figures"]["requests"] - step["figures"]["errors"])
    return {
        "experiment": "capacity",
        "variant": f"gather-{client}",
        "environment": {"timestamp": stamp, "server_mode": mode, "gateway": {"cpu": {"quota": 0.5}}},
        "scenario": {
            "url": "http://gateway/api/gather",
            "strategy": "gather",
            "client": client,
            "target": "async",
            "n": 10,
            "delay": 0.1,
            "slo": [o.text for o in objectives],
            "objectives": [{"name": o.name, "limit": o.limit} for o in objectives],
        },
        "capacity": found["capacity"],
        "steps": found["steps"],
        "_file": f"{stamp}-capacity-gather-{client}-{mode}.json",
    }


def test_every_status_reads_as_what_it_is():
    found = result(Queue(saturation=200.0))
    line = shown.headline(found["capacity"])
    assert line.startswith(f"{found['capacity']['rate']:.1f} aggregations/s carried at ")
    assert "3 of 3 met every objective" in line
    assert shown.headline(result(Queue(saturation=1e5), max_rate=400.0)["capacity"]).startswith("at least ")
    assert shown.headline(result(Queue(base=1.0))["capacity"]) == "no capacity: the first step already failed"
    table = shown.table(found)
    assert "capacity: " in table and "failed first above it: " in table and "| above | FAILED |" in table
    assert "CPU 0.5 / -" in shown.configuration(found)


def test_the_fail_if_conditions_hold_the_confirmations_not_the_steps_that_failed_by_design():
    found = result(Queue(saturation=200.0))
    runs = measured(found)
    assert len(runs) == 3 and all(run["p99"] <= 0.5 for run in runs)


def test_compare_judges_two_capacities_on_their_confirmations_spread():
    before = result(Queue(saturation=100.0))
    after = result(Queue(saturation=200.0), stamp="20261202T000000")
    key = ("capacity/gather-auto", "asgi")
    compared = comparison.compare({key: before}, {key: after})
    (row,) = compared["rows"]
    assert row["figures"]["rps"]["ratio"] == pytest.approx(after["capacity"]["rate"] / before["capacity"]["rate"])
    assert row["figures"]["rps"]["basis"].startswith("runs 3 vs 3")
    assert row["verdict"] == comparison.FASTER
    assert comparison.compare({key: before}, {key: before})["rows"][0]["verdict"] == comparison.SAME


def test_the_report_section_has_a_row_per_configuration_and_the_hockey_stick(tmp_path):
    latest = {
        ("capacity/gather-auto", "asgi"): result(Queue(saturation=200.0)),
        ("capacity/gather-article", "asgi"): result(Queue(saturation=60.0), client="article"),
        ("capacity/gather-auto@3.1", "asgi"): result(Queue(saturation=10.0)),
    }
    section = shown.section(latest, tmp_path)
    rows = [line for line in section.lines if line.startswith("| asgi |")]
    assert len(rows) == 2 and "gather/article" in rows[0] and "gather/auto" in rows[1]
    (plot,) = section.plots
    assert plot.path == tmp_path / "capacity.png" and plot.path.exists()
    assert shown.section({}, tmp_path).lines == []


def test_the_report_sets_the_models_prediction_beside_the_measured_capacity(tmp_path):
    found = result(Queue(saturation=200.0))
    found["model"] = model.check(searched(health(1, 10, 0.5), health(1, 10, 0.5), capacity=found["capacity"]["rate"]))
    lines = shown.section({("capacity/gather-auto", "asgi"): found}, tmp_path).lines
    assert "### The cost model against measurement" in lines
    (row,) = [line for line in lines if line.startswith("| asgi |") and "backend slots" in line]
    assert "10.0 (backend slots)" in row and f"{found['capacity']['rate'] / 10.0:.2f}" in row
    assert "16 cores each (projection)" in "\n".join(lines)
