"""variance: Spearman's rho against known values, and each cause found on synthetic sweeps
where it is the only thing that moves."""

import pytest

from loadgen import variance


def test_spearman_is_one_for_any_rising_pair_and_minus_one_for_a_falling_one():
    assert variance.spearman([1, 2, 3, 10], [5, 6, 100, 101]) == pytest.approx(1.0)
    assert variance.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert variance.spearman([1, 1, 1], [1, 2, 3]) is None
    assert variance.spearman([1, 2], [1, 2]) is None


def test_ties_share_their_mean_rank():
    assert variance.ranks([10, 20, 20, 30]) == [1.0, 2.5, 2.5, 4.0]


def repeat(rps, steal=0.0, threads=(7, 7)):
    return {
        "rps": rps,
        "window": 5.0,
        "mean": 0.5,
        "machine": {"steal_share": steal, "busy_share": 0.5},
        "services": {
            "gateway": {"threads_peak": threads[1], "threads_idle": 7},
            "backend": {"threads_peak": threads[0], "threads_idle": 7},
        },
    }


def sweep(cells):
    return {
        "scenario": {"n": 10, "delay": 0.1, "warmup": 1.0},
        "environment": {"server_mode": "asgi"},
        "cells": [
            {"strategy": "gather", "client": "auto", "concurrency": c, "repeats": reps, "figures": reps[0]}
            for c, reps in cells
        ],
    }


def factor(found, name):
    return next(f for f in found["factors"] if f["factor"] == name)


def stolen(c):
    """Cell c's three repeats: the one the host took a tenth of the CPU from ran a tenth
    slower; which round that was changes from cell to cell, so the round explains nothing."""
    reps = [repeat(100.0 * c), repeat(101.0 * c), repeat(99.0 * c)]
    hit = c % 3
    reps[hit] = repeat(reps[hit]["rps"] * 0.9, steal=0.1)
    return c, reps


def test_steal_that_slows_the_runs_it_hits_is_a_cause():
    cells = [stolen(c) for c in (1, 2, 3, 4, 5, 6)]
    found = variance.explain(sweep(cells))
    steal = factor(found, "CPU steal")
    assert steal["rho"] == pytest.approx(-1.0, abs=0.2) and steal["cause"]
    assert not factor(found, "round")["cause"]


def test_a_rising_sequence_is_found_by_round():
    cells = [(c, [repeat(90.0), repeat(100.0), repeat(110.0)]) for c in (1, 2, 3)]
    found = variance.explain(sweep(cells))
    assert factor(found, "round")["cause"] and factor(found, "round")["rho"] > 0.8
    assert found["rounds"][1] == pytest.approx(-0.1) and found["rounds"][3] == pytest.approx(0.1)


def test_threads_that_grow_with_throughput_are_an_effect_not_a_cause():
    # The faster run had more calls in flight and so more threads: that cannot have slowed it.
    reps = [repeat(90.0, threads=(20, 7)), repeat(100.0, threads=(40, 7)), repeat(95.0, threads=(30, 7))]
    cells = [(c, reps) for c in (1, 2, 3)]
    found = variance.explain(sweep(cells))
    growth = factor(found, "backend thread growth")
    assert growth["strong"] and not growth["cause"]
    assert variance.verdict(growth).startswith("moves with it the wrong way")


def test_the_report_lines_name_the_causes():
    cells = [stolen(c) for c in (1, 2, 3, 4, 5, 6)]
    text = "\n".join(variance.section(sweep(cells), "asgi"))
    assert "#### Where the spread comes from (asgi)" in text
    assert "Measured causes here: CPU steal." in text


def noise(seed):
    """A sweep where nothing explains anything: every repeat's throughput and every
    candidate drawn independently, 2 to 12 cells of 3 repeats."""
    rng = __import__("random").Random(seed)
    cells = []
    for c in range(1, rng.randint(2, 12) + 1):
        reps = []
        for _ in range(3):
            one = repeat(100.0 * (1 + rng.gauss(0, 0.05)), steal=max(0.0, rng.gauss(0.02, 0.01)))
            one["machine"]["busy_share"] = rng.uniform(0.3, 0.9)
            one["services"]["backend"]["threads_peak"] = 7 + rng.randint(0, 30)
            one["services"]["gateway"]["threads_peak"] = 7 + rng.randint(0, 30)
            one["services"]["gateway"]["gc_seconds"] = rng.uniform(0, 0.05)
            one["services"]["backend"]["gc_seconds"] = rng.uniform(0, 0.05)
            one["mean"] = rng.uniform(0.1, 2.0)
            reps.append(one)
        cells.append((c, reps))
    found = sweep(cells)
    for cell in found["cells"]:
        runs = [r["rps"] for r in cell["repeats"]]
        cell["spread"] = {"rps": (max(runs) - min(runs)) / sorted(runs)[1]}
    return found


def test_pure_noise_names_a_cause_in_at_most_5_percent_of_sweeps():
    seeds = range(200)
    named = [seed for seed in seeds if any(f["cause"] for f in variance.explain(noise(seed))["factors"])]
    assert len(named) / len(seeds) <= 0.05, named
