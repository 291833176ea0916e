"""The pure arithmetic of the faults and soak experiments, and their report sections."""

import json

import pytest

from loadgen.report import render
from loadgen.robustness import bins, growth, recovery


def test_bins_count_errors_and_take_the_median_per_second():
    timeline = [(0.1, 0.2, "ok"), (0.5, 0.4, "ok"), (0.9, 0.3, "502"), (1.2, 0.1, "partial"), (2.5, 0.2, "timeout")]
    assert bins(timeline) == [{"t": 0, "requests": 3, "errors": 1, "p50": 0.3},
                              {"t": 1, "requests": 1, "errors": 1, "p50": 0.1},
                              {"t": 2, "requests": 1, "errors": 1, "p50": 0.2}]


def timeline():
    """10/s for 30 s: clean at 0.2 s, an outage from 10 to 15 s (fast 502s), slow clean
    answers for 2 s after it, then back to normal."""
    rows = []
    for i in range(300):
        at = i / 10
        if 10 <= at < 15:
            rows.append((at, 0.005, "502"))
        elif 15 <= at < 17:
            rows.append((at, 0.9, "ok"))
        else:
            rows.append((at, 0.2, "ok"))
    return rows


def test_recovery_is_measured_from_the_backend_answering_again():
    r = recovery(bins(timeline()), down_at=10.0, up_at=15.0)
    assert r["outage"] == 5.0
    assert (r["before"]["error_rate"], r["during"]["error_rate"], r["after"]["error_rate"]) == (0, 1, 0)
    assert r["before"]["p50"] == pytest.approx(0.2) and r["during"]["p50"] == pytest.approx(0.005)
    # Two slow seconds after the restart: clean again at the end of the third.
    assert r["recovered_after"] == 3.0


def test_no_outage_no_recovery():
    assert recovery(bins(timeline()), None, None) == {"outage_seen": False}


def test_growth_compares_memory_after_warm_up_with_the_end():
    def sample(at, rss, threads):
        return {"at": at, "rss_bytes": {"now": rss}, "threads": {"now": threads}}

    samples = [sample(0, 50, 5), sample(10, 100, 9), sample(20, 104, 9), sample(30, 105, 10)]
    assert growth(samples, after=10) == {"rss_after_warmup": 100, "rss_end": 105, "growth": 0.05,
                                         "threads_after_warmup": 9, "threads_end": 10}
    assert growth(samples, after=31) is None


def test_the_report_shows_clients_faults_and_soak(tmp_path):
    env = {"timestamp": "2026-01-01T00:00:00+00:00", "server_mode": "asgi", "gateway": None, "backend": None}
    figures = {"rps": 50.0, "p50": 0.2, "p99": 0.4, "errors": 0, "partial": 0, "requests": 500,
               "services": {"gateway": {"cpu_ms_per_request": 12.5}}}
    (tmp_path / "a-clients-asgi.json").write_text(json.dumps({
        "experiment": "clients", "environment": env, "scenario": {"n": 10, "delay": 0.1, "duration": 8},
        "cells": [{"strategy": "gather", "client": "aiohttp", "concurrency": 50, "figures": figures}]}))
    (tmp_path / "b-faults-asgi.json").write_text(json.dumps({
        "experiment": "faults", "environment": env, "recovery": recovery(bins(timeline()), 10.0, 15.0)}))
    (tmp_path / "c-soak-asgi.json").write_text(json.dumps({
        "experiment": "soak", "environment": env, "scenario": {"strategy": "gather", "rate": 20, "duration": 300},
        "figures": figures, "memory": {"gateway": {"growth": 0.031}, "backend": {"growth": -0.002}}}))
    text = render(tmp_path).read_text()
    assert "| asgi | gather | aiohttp | 50 | 50.0 | 200.0 ms | 400.0 ms | 0 | 0 | 12.5 ms |" in text
    assert "| asgi | 5.0 s | 0% | 100% | 0% | 200.0 ms | 5.0 ms | 200.0 ms | 3.0 s |" in text
    assert "| asgi | gather at 20/s for 300 s | 500 | 0 | 200.0 ms | 400.0 ms | +3.1% | -0.2% |" in text
