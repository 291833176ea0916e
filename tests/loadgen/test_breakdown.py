import pytest

from loadgen.breakdown import Breakdown, split
from loadgen.sampler import summarise


def test_an_aggregation_splits_into_parts_that_add_up_to_its_latency():
    parts = split(1.30, {"app": 1.20, "fanout": 1.15, "call": 1.10, "backend": 1.00})
    assert parts == pytest.approx({"rest": 0.10, "gateway": 0.05, "calls": 0.15, "backend": 1.00})
    assert sum(parts.values()) == pytest.approx(1.30)


def test_a_plain_service_is_handler_and_rest():
    assert split(0.25, {"app": 0.2}) == pytest.approx({"rest": 0.05, "gateway": 0.0, "calls": 0.0, "backend": 0.2})


def test_no_timing_no_parts():
    assert split(1.0, {}) is None and split(1.0, {"db": 0.5}) is None


def test_the_summary_is_of_means_with_shares():
    breakdown = Breakdown()
    breakdown.add(1.0, {"app": 0.9, "fanout": 0.8, "backend": 0.6})
    breakdown.add(3.0, {"app": 2.5, "fanout": 2.4, "backend": 1.4})
    breakdown.add(9.9, {})  # no timing: not counted at all
    summary = breakdown.summary()
    assert summary["requests"] == 2 and summary["latency"] == pytest.approx(2.0)
    assert summary["parts"] == pytest.approx({"rest": 0.3, "gateway": 0.1, "calls": 0.6, "backend": 1.0})
    assert summary["shares"] == pytest.approx({"rest": 0.15, "gateway": 0.05, "calls": 0.3, "backend": 0.5})
    assert Breakdown().summary() is None


def total(cpu, requests, threads, recent_threads, rss, in_flight, lag=None, at=None):
    return {
        "at": cpu if at is None else at,
        "processes": 2,
        "workers": 1,
        "cpu_seconds": cpu,
        "requests": requests,
        "threads": {"now": threads, "recent_peak": recent_threads},
        "rss_bytes": {"now": rss, "recent_peak": rss},
        "in_flight": {"now": in_flight, "recent_peak": in_flight},
        "loop_lag_ms": lag,
    }


def test_a_scenarios_service_figures_are_peaks_over_samples_and_deltas_end_to_start():
    samples = [
        total(1.0, 100, 5, 5, 50e6, 0),
        total(2.0, 150, 40, 60, 70e6, 30, {"recent_max": 12.0}),
        total(3.0, 300, 6, 20, 65e6, 0, {"recent_max": 3.0}),
    ]
    seen = summarise(samples)
    assert (seen["threads_peak"], seen["threads_idle"], seen["in_flight_peak"], seen["in_flight_after"]) == (
        60,
        5,
        30,
        0,
    )
    assert (seen["rss_peak_bytes"], seen["rss_idle_bytes"]) == (70e6, 50e6)
    assert (seen["cpu_seconds"], seen["requests"], seen["cpu_ms_per_request"]) == (2.0, 200, 10.0)
    assert seen["loop_lag_max_ms"] == 12.0
    assert seen["window"] == 2.0 and seen["bracketed"]


def test_over_a_window_counters_are_read_at_its_ends_and_peaks_inside_it():
    # Polls at 0, 1, 2, 3 s on loadgen's clock; the window is [0.5, 2.5]. CPU rose 1 s a
    # second, requests 100 a second: 2 s and 200 requests inside, by straight lines.
    samples = [
        total(0.0, 0, 5, 5, 50e6, 0, at=0.0),
        total(1.0, 100, 40, 90, 70e6, 30, at=1.0),
        total(2.0, 200, 40, 60, 70e6, 20, at=2.0),
        total(3.0, 300, 6, 6, 50e6, 0, at=3.0),
    ]
    seen = summarise(samples, (0.5, 2.5))
    assert (seen["cpu_seconds"], seen["requests"], seen["window"]) == (2.0, 200, 2.0)
    # The polls at 1 and 2 s are inside; 3 s is past the window by more than a poll's interval.
    assert (seen["threads_peak"], seen["in_flight_peak"], seen["samples"]) == (90, 30, 2)
    # Idle figures are the first poll's, before any load.
    assert seen["threads_idle"] == 5 and seen["bracketed"]
    # A window past the last poll is clamped, and says so.
    assert summarise(samples, (2.5, 3.5))["bracketed"] is False


def test_too_few_samples_say_nothing():
    assert summarise([]) is None and summarise([total(1, 1, 1, 1, 1, 0)]) is None


def test_a_service_silent_across_a_window_end_has_no_counters_there_not_zero():
    # Polled at 0 and 1 s, then silent (overloaded: its telemetry queued behind the load)
    # until 70 s; the window is [2, 10]: its CPU over it is unknown, never 0.
    samples = [total(0.0, 0, 5, 5, 50e6, 0, at=0.0), total(0.1, 10, 5, 5, 50e6, 0, at=1.0)]
    seen = summarise(samples, (2.0, 10.0))
    assert seen["cpu_seconds"] is None and seen["requests"] is None and not seen["bracketed"]
    late = [*samples, total(30.0, 500, 5, 5, 50e6, 0, at=70.0)]
    assert summarise(late, (2.0, 10.0))["cpu_seconds"] is None
    # Polls 2.5 s apart around each end (a slow but answering service): read between them.
    answering = [total(t / 2, 10 * t, 5, 5, 50e6, 0, at=float(t)) for t in (0, 2.5, 5, 7.5, 10, 12.5)]
    assert summarise(answering, (2.0, 10.0))["cpu_seconds"] == pytest.approx(4.0)
