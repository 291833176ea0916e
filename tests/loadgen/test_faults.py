"""The faults experiment's pure arithmetic: per-second bins and recovery after an outage."""

import pytest

from loadgen.experiments.faults import bins, recovery


def test_bins_count_errors_and_take_the_median_per_second():
    timeline = [(0.1, 0.2, "ok"), (0.5, 0.4, "ok"), (0.9, 0.3, "502"), (1.2, 0.1, "partial"), (2.5, 0.2, "timeout")]
    assert bins(timeline) == [
        {"t": 0, "requests": 3, "errors": 1, "p50": 0.3},
        {"t": 1, "requests": 1, "errors": 1, "p50": 0.1},
        {"t": 2, "requests": 1, "errors": 1, "p50": 0.2},
    ]


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
