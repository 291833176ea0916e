"""`loadgen freethreaded`: its measuring part against a live backend on the host's Python
(a build with the GIL), and the report's rules on the article's Part III on synthetic
results (loadgen/sections/freethreaded.py)."""

import asyncio
import platform

import pytest

from harness.live import ROOT
from loadgen.experiments import freethreaded
from loadgen.lab import Lab
from loadgen.sections import freethreaded as shown


def test_a_gil_build_is_measured_and_never_labelled_free_threaded(serve, tmp_path):
    backend = serve("backend", "wsgi", THREADS=2)
    # The gateway's place is the backend too: the cpu part never goes through a gateway.
    lab = Lab(gateway=backend.url, backend=backend.url, results=tmp_path, progress=False)
    result = asyncio.run(
        freethreaded.run(
            lab, ms=5, repeat=2, duration=0.6, warmup=0.2, memory_threads=200, memory_tasks=2000, workers=1
        )
    )
    # One request per backend thread, read from its /healthz.
    assert result["scenario"]["concurrency"] == 2 and result["scenario"]["threads"] == 2
    for part in ("cpu", "single"):
        seen = result["measured"][part]
        assert seen["rps"]["count"] == 2 and seen["rps"]["median"] > 0 and seen["requests"] > 0, seen
        assert seen["cpu_ms_per_request"]["count"] == 2 and seen["errors"] == 0
    # The work is fixed, not timed: a request costs the backend CPU, however fast the host.
    assert result["measured"]["single"]["cpu_ms_per_request"]["median"] > 0
    # The host's Python: its version, a build with the GIL, each worker's report by pid.
    assert result["python"]["version"] == platform.python_version() and result["python"]["free_threaded_build"] is False
    workers = result["gil"]["workers"]["after"]
    assert workers and all(value in (True, None) for value in workers.values())  # None: before 3.13, unknown
    assert result["gil"]["label"] == freethreaded.WITH_GIL and result["gil"]["free_threaded"] is False
    assert result["variant"] == f"py{result['python']['label']}-t2"
    # Memory measured, and said to be loadgen's own interpreter's, not the backend's.
    assert result["memory"]["threads"]["bytes_each"] > 0 and result["memory"]["where"]["of_backend"] is False
    text = shown.table(result)
    assert "c=2" in text and "with the GIL" in text and "loadgen's interpreter" in text


def health(build, workers, reason=None):
    return {
        "versions": {"python": "3.14.0"},
        "gil_enabled": any(workers.values()),
        "gil": {"free_threaded_build": build, "workers": workers, "reenabled_by": reason},
    }


def test_a_free_threaded_build_whose_gil_came_back_is_refused_the_label():
    clean = health(True, {"7": False, "8": False})
    came_back = health(True, {"7": False, "8": True}, "numpy")
    assert freethreaded.verdict(clean, clean)["label"] == freethreaded.FREE_THREADED
    for before, after in ((clean, came_back), (came_back, clean)):
        found = freethreaded.verdict(before, after)
        assert found["label"] == freethreaded.GIL_RETURNED and not found["free_threaded"]
        assert "numpy" in found["refused"]
    assert freethreaded.verdict(None, None)["label"] == freethreaded.UNKNOWN
    assert freethreaded.python_of(clean)["label"] == "3.14t"


def runs(*values):
    return freethreaded.summary(list(values))


def test_the_ratio_range_comes_from_the_runs_extremes():
    found = freethreaded.ratio(runs(180, 190, 200), runs(95, 100, 105))
    assert found["median"] == pytest.approx(1.9)
    assert found["low"] == pytest.approx(180 / 105) and found["high"] == pytest.approx(200 / 95)
    assert found["counts"] == [3, 3]


def scale(two, one):
    return freethreaded.ratio(runs(*two), runs(*one))


def test_multiple_cpus_claim_holds_with_the_gil_and_fails_without_it():
    gil, free = scale((101, 103, 104), (100, 101, 102)), scale((190, 195, 198), (100, 101, 103))
    verdict, why = shown.multicore_verdict(gil, free, True)
    assert verdict.startswith("holds with the GIL") and "fails without it" in verdict and "3.14t: 1.9" in why


def test_multiple_cpus_claim_is_undecided_between_the_bounds_and_not_judged_when_refused():
    middling = scale((130, 140), (100, 101))
    assert "undecided without it" in shown.multicore_verdict(None, middling, True)[0]
    # 2 threads giving 1.9x on a 3.14t whose GIL came back: never a verdict on free threading.
    fast = scale((190, 195), (100, 101))
    assert "not judged" in shown.multicore_verdict(None, fast, False)[0]
    # A second thread that cost throughput with the GIL: the claim's "holds" needs under 1.15x.
    assert "not even with the GIL" in shown.multicore_verdict(scale((120, 125), (100, 101)), None, None)[0]


def test_one_run_a_side_decides_nothing():
    assert shown.multicore_verdict(scale((190,), (100,)), None, None)[0] == "not measured"
    assert shown.slower_verdict(scale((12,), (1,)), True)[0] == "not measured"


def test_order_of_magnitude_claim_by_the_single_thread_cost():
    assert shown.slower_verdict(scale((1.3, 1.4, 1.5), (1.0, 1.05, 1.1)), True)[0] == "fails"
    assert shown.slower_verdict(scale((11, 12), (1.0, 1.05)), True)[0] == "holds"
    assert shown.slower_verdict(scale((9, 11), (1.0, 1.05)), True)[0] == "undecided"
    assert shown.slower_verdict(scale((1.3, 1.4), (1.0, 1.05)), False)[0] == "refused"


def result(python, threads, rps, cpu_ms, free=True, mode="wsgi"):
    seen = {
        "rps": runs(*rps),
        "cores_busy": runs(1.0, 1.0),
        "cpu_ms_per_request": runs(*cpu_ms),
        "errors": 0,
        "requests": 100,
    }
    return {
        "experiment": "freethreaded",
        "environment": {"server_mode": mode},
        "python": {"version": "3.14.0", "label": python, "free_threaded_build": python.endswith("t")},
        "gil": {"label": "x", "free_threaded": free and python.endswith("t"), "workers": {"after": {"1": False}}},
        "scenario": {"ms": 20, "concurrency": threads, "threads": threads, "workers": 1},
        "measured": {"cpu": seen, **({"single": seen} if threads == 1 else {})},
        "memory": {},
        "cells": [],
    }


def latest(*found):
    return {(f"freethreaded/py{r['python']['label']}-t{r['scenario']['threads']}", "wsgi"): r for r in found}


def test_the_section_sets_both_interpreters_side_by_side_with_both_verdicts():
    found = latest(
        result("3.14", 1, (100, 101), (10.0, 10.2)),
        result("3.14", 2, (101, 102), (10.0, 10.2)),
        result("3.14t", 1, (80, 81), (12.0, 12.5)),
        result("3.14t", 2, (155, 158), (12.0, 12.5)),
    )
    # A run on the default image's Python in the same folder is shown, never the twin.
    found.update(latest(result("3.11", 1, (300, 301), (1.0, 1.1)), result("3.11", 2, (301, 302), (1.0, 1.1))))
    text = "\n".join(shown.section(found, None).lines)
    assert "| 3.14t | 2 |" in text and "3.14t / 3.14" in text and "| 3.11 | 2 |" in text
    assert "**holds with the GIL; fails without it: one process used more than one core**" in text
    assert f"*{shown.SLOWER_CLAIM}*: **fails**" in text


def test_the_section_refuses_verdicts_on_a_3_14t_run_whose_gil_came_back():
    found = latest(
        result("3.14", 1, (100, 101), (10.0, 10.2)),
        result("3.14", 2, (101, 102), (10.0, 10.2)),
        result("3.14t", 1, (80, 81), (12.0, 12.5), free=False),
        result("3.14t", 2, (81, 82), (12.0, 12.5), free=False),
    )
    text = "\n".join(shown.section(found, None).lines)
    assert "3.14t (GIL ON)" in text and f"*{shown.SLOWER_CLAIM}*: **refused**" in text
    assert "not judged without the GIL" in text


def test_the_docs_state_the_rules_the_section_applies():
    text = (ROOT / "docs" / "freethreaded.md").read_text()
    assert f"under **{shown.HOLDS_BELOW:g}x**" in text and f"reaches **{shown.USES_TWO_FROM:g}x**" in text
    assert f"reaches **{shown.ORDER_OF_MAGNITUDE:g}x**" in text and f"at least\n  {shown.MIN_RUNS} runs" in text


def test_with_one_thread_the_cpu_and_single_parts_are_the_same_runs(serve, tmp_path):
    backend = serve("backend", "wsgi", THREADS=1)
    lab = Lab(gateway=backend.url, backend=backend.url, results=tmp_path, progress=False)
    result = asyncio.run(freethreaded.run(lab, parts=("cpu", "single"), ms=2, repeat=2, duration=0.4, warmup=0.1))
    assert result["scenario"]["concurrency"] == 1 and result["scenario"]["single_is_cpu"]
    assert [cell["part"] for cell in result["cells"]] == ["cpu"]
    single = result["measured"]["single"]
    assert single["same_runs_as"] == "cpu" and single["rps"] == result["measured"]["cpu"]["rps"]
    assert single["rps"]["count"] == 2 and single["requests"] > 0
