import math
import random

import pytest

from loadgen.figures import figures
from loadgen.plan import Plan
from loadgen.stats import Recorder, littles_law, percentile_name
from loadgen.tally import Tally


def percentile(values, q):
    """Nearest-rank percentile of `values`: the exact figure HdrHistogram approximates."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


@pytest.mark.parametrize(
    "draw",
    [
        lambda rng: rng.uniform(0.001, 2.0),
        lambda rng: rng.expovariate(1 / 0.05),
        lambda rng: rng.lognormvariate(-3, 1.2),
    ],
)
def test_the_histogram_agrees_with_exact_percentiles(draw):
    rng = random.Random(7)
    values = [draw(rng) for _ in range(20_000)]
    recorder = Recorder()
    for value in values:
        recorder.record(value)
    for q in (50, 90, 99, 99.9):
        # 3 significant digits (plus a microsecond of rounding on tiny values), and the
        # rank may land one sample either side where the tail is sparse.
        low = percentile(values, q - 0.05) * (1 - 2e-3) - 2e-6
        high = percentile(values, q + 0.05) * (1 + 2e-3) + 2e-6
        assert low <= recorder.percentile(q) <= high
        assert recorder.percentile(q) == pytest.approx(percentile(values, q), rel=0.01)
    summary = recorder.summary()
    assert summary["count"] == len(values)
    assert summary["max"] == pytest.approx(max(values), rel=2e-3)
    assert summary["mean"] == pytest.approx(sum(values) / len(values))


def test_an_empty_recorder_has_no_figures():
    summary = Recorder().summary()
    assert summary["count"] == 0 and summary["p99"] is None and summary["mean"] is None


def test_percentile_names():
    assert [percentile_name(q) for q in (50, 90, 99, 99.9)] == ["p50", "p90", "p99", "p999"]


def test_open_loop_latency_exposes_a_stall_that_a_waiting_client_hides():
    # Schedule: one request every 10 ms for 2 s; the server takes 1 ms, except one request
    # at t = 0.5 s that takes 1 s. A client that waits for each answer before sending the
    # next (coordinated omission) sends late during the stall, so latency from the actual
    # send sees one slow request; from the schedule, every request queued behind it is slow.
    interval, stall_at = 0.010, 50
    tally = Tally(started=0.0, window_end=10.0)
    free = 0.0
    for i in range(200):
        intended = i * interval
        sent = max(intended, free)
        done = sent + (1.0 if i == stall_at else 0.001)
        tally.add(intended, sent, done, status=200, error=None, partial=False)
        free = done
    result = figures(Plan(urls=("http://x/",), rate=100), tally, cpu=0.0, wall=1.0)
    assert result["latency_uncorrected"]["p99"] < 0.01 < 0.5 < result["p99"]
    # Not one slow request but the ~100 scheduled during the stall: more than a tenth of all.
    assert result["latency_uncorrected"]["p90"] < 0.01 < 0.5 < result["p90"]


def test_littles_law_holds_and_flags():
    assert littles_law(10, 95.0, 0.1)["holds"] is True
    broken = littles_law(200, 6.0, 2.0)
    assert broken["holds"] is False and broken["ratio"] == 0.06
