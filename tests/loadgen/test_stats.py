import random

import pytest

from loadgen.stats import Recorder, corrected, littles_law, percentile, percentile_name


def test_nearest_rank_percentiles_of_a_known_set():
    values = list(range(1, 101))
    assert [percentile(values, q) for q in (1, 50, 90, 99, 100)] == [1, 50, 90, 99, 100]
    assert percentile([0.3], 99.9) == 0.3
    with pytest.raises(ValueError):
        percentile([], 50)


@pytest.mark.parametrize("draw", [
    lambda rng: rng.uniform(0.001, 2.0),
    lambda rng: rng.expovariate(1 / 0.05),
    lambda rng: rng.lognormvariate(-3, 1.2),
])
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


def test_correction_exposes_a_stall_that_a_waiting_client_hides():
    # Schedule: one request every 10 ms for 2 s; the server takes 1 ms, except one request
    # at t = 0.5 s that takes 1 s. A client that waits for each answer before sending the
    # next (coordinated omission) sends late during the stall, so uncorrected latency sees
    # one slow request; measured from the schedule, every request queued behind it is slow.
    interval, stall_at = 0.010, 50
    sent_at, done_at = [], []
    free = 0.0
    for i in range(200):
        intended = i * interval
        sent = max(intended, free)
        done = sent + (1.0 if i == stall_at else 0.001)
        sent_at.append((intended, sent))
        done_at.append(done)
        free = done
    pairs = [corrected(intended, sent, done) for (intended, sent), done in zip(sent_at, done_at)]
    fixed = [c for c, _ in pairs]
    raw = [u for _, u in pairs]
    assert sum(u > 0.1 for u in raw) == 1
    assert sum(c > 0.1 for c in fixed) >= 90  # the ~100 requests scheduled during the stall
    assert percentile(raw, 99) < 0.01 < 0.5 < percentile(fixed, 99)


def test_littles_law_holds_and_flags():
    assert littles_law(10, 95.0, 0.1)["holds"] is True
    broken = littles_law(200, 6.0, 2.0)
    assert broken["holds"] is False and broken["ratio"] == 0.06
