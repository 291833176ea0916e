"""The capacity search as a pure unit, on systems whose latency is a known function of the
arrival rate: it must find the highest rate within the objectives to its resolution, say
which objective failed above it, and stay within its bounds whatever the system does."""

import asyncio
import math

import pytest

from loadgen import search, slo

P99 = (slo.parse("p99=500ms"),)


class Queue:
    """An M/M/1-like system: p99 = base / (1 - rate / saturation) below saturation, far past
    any objective at and above it; `errors_from`: every request fails from this rate on."""

    def __init__(self, saturation=200.0, base=0.05, errors_from=None, seconds=5.0, noisy=(), samples=200):
        self.saturation, self.base, self.errors_from, self.samples = saturation, base, errors_from, samples
        self.seconds, self.noisy = seconds, set(noisy)
        self.asked: list[tuple[float, str]] = []

    def p99(self, rate: float) -> float:
        return self.base / (1 - rate / self.saturation) if rate < self.saturation else 60.0

    async def __call__(self, rate: float, phase: str) -> dict:
        self.asked.append((rate, phase))
        # Each step long enough for its samples, as the experiment sizes them.
        count = max(round(rate * self.seconds), self.samples)
        failing = self.errors_from is not None and rate >= self.errors_from
        p99 = self.p99(rate) * (3 if (rate, phase) in self.noisy else 1)
        carried = min(rate, self.saturation) * (1 - 0.001 * (len(self.asked) % 3))
        return {
            "p50": p99 / 4,
            "p99": p99,
            "latency": {"count": 0 if failing else count, "lower_bound_from": None},
            "requests": count,
            "errors": count if failing else 0,
            "error_rate": 1.0 if failing else 0.0,
            "rps": 0.0 if failing else carried,
            "elapsed": self.seconds,
        }

    def threshold(self, limit: float) -> float:
        """The rate at which p99 is exactly `limit`: the true capacity under that objective."""
        return self.saturation * (1 - self.base / limit)


def found(system, objectives=P99, **bounds):
    return asyncio.run(search.search(system, slo.objectives(list(objectives)), search.Bounds(**bounds)))


@pytest.mark.parametrize(("saturation", "resolution"), [(200.0, 0.1), (73.0, 0.05), (1510.0, 0.02)])
def test_the_capacity_is_found_within_the_resolution(saturation, resolution):
    system = Queue(saturation=saturation)
    result = found(system, resolution=resolution, start=5.0)
    capacity, true = result["capacity"], system.threshold(0.5)
    assert capacity["status"] == search.FOUND
    # The highest rate that met the objective, and no more than one resolution under the truth.
    assert capacity["offered"] <= true < capacity["offered"] * (1 + resolution) ** 2
    assert capacity["confirmed"] == 3 and capacity["above"]["met"] is False
    assert capacity["above"]["rate"] > true
    assert capacity["failed_first"]["name"] == "p99" and capacity["failed_first"]["rate"] > true
    # The carried rate of the median confirmation, and the spread of the three.
    assert capacity["rate"] == pytest.approx(sorted(capacity["runs"])[1])
    assert capacity["spread"] == pytest.approx((max(capacity["runs"]) - min(capacity["runs"])) / capacity["rate"])


def test_the_ramp_is_geometric_then_the_search_bisects():
    system = Queue(saturation=200.0)
    result = found(system, start=10.0, factor=2.0, resolution=0.1)
    ramp = [s["rate"] for s in result["steps"] if s["phase"] == "ramp"]
    assert ramp == [10.0, 20.0, 40.0, 80.0, 160.0, 320.0]
    bisect = [s["rate"] for s in result["steps"] if s["phase"] == "bisect"]
    # Each between the last rate that met the objective and the last that did not.
    assert bisect and all(160.0 < rate < 320.0 for rate in bisect)
    phases = [s["phase"] for s in result["steps"]]
    assert phases[-4:] == ["confirm", "confirm", "confirm", "above"]


def test_errors_fail_a_rate_however_fast_they_are_answered():
    # Latency alone would pass 150/s; every request fails from 120/s on.
    system = Queue(saturation=1000.0, errors_from=120.0)
    capacity = found(system, objectives=(slo.parse("p99=500ms"), slo.parse("errors=1%")))["capacity"]
    assert capacity["offered"] < 120.0 <= capacity["offered"] * 1.1
    assert capacity["failed_first"]["name"] == "errors"


def test_an_unreachable_objective_stops_at_the_first_step_with_its_figures():
    system = Queue(saturation=200.0, base=1.0)
    result = found(system)
    assert result["capacity"]["status"] == search.UNREACHABLE
    assert result["capacity"]["rate"] is None and result["capacity"]["offered"] is None
    assert len(result["steps"]) == 1 and result["steps"][0]["figures"]["p99"] > 0.5
    assert result["capacity"]["failed_first"]["text"].startswith("p99 <= 500.0 ms: ")


def test_a_step_too_short_for_its_percentile_carries_nothing():
    result = found(Queue(saturation=200.0, samples=0), start=5.0)
    assert result["capacity"]["status"] == search.UNREACHABLE
    assert result["capacity"]["failed_first"]["text"] == "p99 <= 500.0 ms: not judged (25 samples, p99 needs 100)"


def test_a_system_that_carries_the_max_rate_is_reported_at_least_that():
    capacity = found(Queue(saturation=10_000.0), max_rate=400.0)["capacity"]
    assert capacity["status"] == search.AT_MAX and capacity["offered"] == 400.0
    assert capacity["above"] is None and capacity["failed_first"] is None


def test_a_lucky_step_is_not_the_answer_the_confirmations_step_down():
    system = Queue(saturation=200.0)
    clean = found(Queue(saturation=200.0))["capacity"]["offered"]
    # The same system, but confirming at the rate the clean search found fails (noise).
    system = Queue(saturation=200.0, noisy={(clean, "confirm")})
    capacity = found(system)["capacity"]
    assert capacity["offered"] == search.rounded(clean / 1.1)
    assert capacity["status"] == search.FOUND and capacity["confirmed"] == 3


def test_every_search_is_bounded_in_steps_and_in_time():
    # A percent resolution from 1/s to a saturation of 5,000/s takes many steps: capped.
    system = Queue(saturation=5000.0)
    result = found(system, start=1.0, max_rate=10_000.0, resolution=0.001, max_steps=12)
    assert len(result["steps"]) <= 12 and result["capacity"]["stopped_by"] == "max steps"
    timed = found(Queue(saturation=5000.0, seconds=30.0), start=1.0, max_rate=10_000.0, budget=100.0)
    searched = [s for s in timed["steps"] if s["phase"] in ("ramp", "bisect")]
    assert len(searched) == math.ceil(100.0 / 30.0)
    assert timed["capacity"]["status"] == search.AT_LEAST and timed["capacity"]["stopped_by"] == "time budget"


def test_impossible_bounds_are_refused():
    for bad in ({"start": 0.0}, {"start": 50.0, "max_rate": 10.0}, {"factor": 1.0}, {"resolution": 0.0}):
        with pytest.raises(ValueError):
            search.Bounds(**bad)
    with pytest.raises(ValueError, match="no room"):
        search.Bounds(confirm=5, max_steps=6)


def test_the_middle_is_geometric_and_rounded():
    assert search.middle(100.0, 400.0) == 200.0
    assert search.middle(80.0, 160.0) == 113.0
    assert search.middle(100.0, 100.5) is None
