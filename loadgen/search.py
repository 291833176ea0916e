"""The capacity search: the highest arrival rate that meets every objective, as a pure
coroutine over an injected step, `measure(rate, phase) -> figures` (loadgen/experiments/
capacity.py gives it the lab's open loop; the tests give it a system of known capacity).

1. ramp: from `start`, each rate `factor` times the last, until a step fails an objective
   (or `max_rate` is met: the capacity is then at least that, and said so);
2. bisect: between the highest rate that met every objective and the lowest that did not,
   at their geometric middle (rates are ratios: 10 % off at 20/s and at 2,000/s alike),
   until they are within `resolution` of each other;
3. confirm: the found rate again, `confirm` times; when most of those fail, the rate was
   a lucky step, and the search steps down by the resolution and confirms again (a few
   times at most); then once the rate just above it, which should fail.

The capacity is the median run's carried rate (2xx answers a second: what the configuration
carried within its objectives) over the confirmations, with their spread ((highest - lowest)
/ median), and the objective that failed first above it: at the lowest failed rate above the
capacity, the objective it missed by the most. Its status: found; at max rate (every step
up to `max_rate` met: at least that); at least (the ramp ran out of steps or time first);
unconfirmed (most confirmations kept failing); unreachable (the first step failed). Every
step counts against `max_steps`; the
ramp and the bisection stop at `budget` seconds of steps (each step reports its own in
figures["elapsed"]) and leave the confirmation its steps.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

from . import slo

Measure = Callable[[float, str], Awaitable[dict]]

# The rate is found; every step up to max_rate met the objectives; the very first step
# failed; the confirmations kept failing as the search stepped down.
FOUND, AT_MAX, UNREACHABLE, UNCONFIRMED = "found", "at max rate", "unreachable", "unconfirmed"
# The ramp ran out of steps or time before any step failed: the capacity is at least the rate.
AT_LEAST = "at least"
# How many times a failed confirmation steps the rate down before the search gives up.
STEP_DOWNS = 3


@dataclass(frozen=True)
class Bounds:
    """Where the search starts and how far it may go."""

    start: float = 10.0  # aggregations/s of the first step
    max_rate: float = 2000.0  # never offered more than this
    factor: float = 2.0  # the ramp's ratio from one step to the next
    resolution: float = 0.1  # the bisection stops when high / low <= 1 + resolution
    confirm: int = 3  # runs of the found rate
    max_steps: int = 40  # every step of the search, confirmations included
    budget: float = 1800.0  # seconds of ramp and bisection steps

    def __post_init__(self) -> None:
        if not 0 < self.start <= self.max_rate:
            raise ValueError(f"the start rate {self.start:g}/s must be more than 0 and at most the max rate")
        if self.factor <= 1 or self.resolution <= 0 or self.confirm < 1 or self.budget <= 0:
            raise ValueError("factor > 1, resolution > 0, confirm >= 1 and budget > 0")
        if self.max_steps < self.confirm + 2:
            raise ValueError(f"max_steps {self.max_steps} leaves no room for a search and {self.confirm} confirmations")


def rounded(rate: float) -> float:
    """A rate as a table shows it: three significant figures (113.137 -> 113)."""
    return float(f"{rate:.3g}")


def middle(low: float, high: float) -> float | None:
    """The geometric middle of two rates, rounded; None when rounding leaves nothing between them."""
    found = rounded(math.sqrt(low * high))
    return found if low < found < high else None


def spread(values: list[float]) -> float | None:
    ordered = sorted(values)
    median = ordered[(len(ordered) - 1) // 2] if ordered else None
    return (ordered[-1] - ordered[0]) / median if median else None


async def search(measure: Measure, objectives: tuple[slo.Objective, ...], bounds: Bounds) -> dict:
    """{"capacity": {...}, "steps": [every step in order: rate, phase, met, verdicts, figures]}."""
    steps: list[dict] = []
    spent = 0.0

    async def step(rate: float, phase: str) -> dict:
        nonlocal spent
        figures = await measure(rate, phase)
        spent += figures.get("elapsed") or 0.0
        judged = slo.verdicts(objectives, figures)
        entry = {"rate": rate, "phase": phase, "met": slo.met(judged), "verdicts": judged, "figures": figures}
        steps.append(entry)
        return entry

    # Ramp and bisection leave the confirmations (and the step above) their steps.
    reserve = bounds.confirm + 1
    stopped = None

    def exhausted() -> str | None:
        if len(steps) >= bounds.max_steps - reserve:
            return "max steps"
        if spent >= bounds.budget:
            return "time budget"
        return None

    low = high = None
    rate = rounded(bounds.start)
    while True:
        entry = await step(rate, "ramp")
        if not entry["met"]:
            high = rate
            break
        low = rate
        if rate >= bounds.max_rate:
            break
        if stopped := exhausted():
            break
        rate = min(rounded(rate * bounds.factor), bounds.max_rate)
    if low is None:
        return {"capacity": outcome(UNREACHABLE, None, [], steps, bounds, stopped), "steps": steps}
    while high is not None and high / low > 1 + bounds.resolution and not (stopped := stopped or exhausted()):
        rate = middle(low, high)
        if rate is None:
            break
        entry = await step(rate, "bisect")
        low, high = (rate, high) if entry["met"] else (low, rate)
    status = FOUND if high is not None else AT_MAX if low >= bounds.max_rate else AT_LEAST
    for down in range(STEP_DOWNS + 1):
        runs = [await step(low, "confirm") for _ in range(bounds.confirm)]
        if 2 * sum(run["met"] for run in runs) > len(runs):
            break
        if down == STEP_DOWNS or len(steps) + bounds.confirm + 1 > bounds.max_steps:
            status = UNCONFIRMED
            break
        # Most confirmations failed: the step that found it was lucky. Down one resolution.
        high, low = low, rounded(low / (1 + bounds.resolution))
    if high is not None and len(steps) < bounds.max_steps:
        await step(high, "above")
    return {"capacity": outcome(status, low, runs, steps, bounds, stopped), "steps": steps}


def median_run(runs: list[dict]) -> dict:
    """The confirmation with the median carried rate (the lower middle of an even count):
    one real run, so its latency and its rate belong together."""
    return sorted(runs, key=lambda run: run["figures"].get("rps") or 0.0)[(len(runs) - 1) // 2]


def outcome(status: str, offered: float | None, runs: list[dict], steps: list[dict], bounds: Bounds, stopped) -> dict:
    """The result's top-level `capacity` object."""
    found = {
        "status": status,
        "offered": offered,
        "rate": None,
        "spread": None,
        "runs": [],
        "confirmed": None,
        "failed_first": None,
        "above": None,
        "stopped_by": stopped,
        "steps": len(steps),
        "bounds": asdict(bounds),
    }
    if runs:
        carried = [run["figures"].get("rps") or 0.0 for run in runs]
        found["rate"] = median_run(runs)["figures"].get("rps")
        found["spread"] = spread(carried)
        found["runs"] = carried
        found["confirmed"] = sum(run["met"] for run in runs)
        # Each objective's figure over the confirmations: how close to its limit it ran.
        found["objectives"] = {
            verdict["name"]: [run["verdicts"][i]["value"] for run in runs]
            for i, verdict in enumerate(runs[0]["verdicts"])
        }
    above = [s for s in steps if s["phase"] == "above"]
    if above:
        found["above"] = {"rate": above[-1]["rate"], "met": above[-1]["met"]}
    # The lowest failed rate above the capacity (the first, unreachable, step if none is).
    failed = [s for s in steps if not s["met"] and (offered is None or s["rate"] > offered)]
    if failed:
        lowest = min(failed, key=lambda s: (s["rate"], steps.index(s)))
        worst = slo.worst(lowest["verdicts"])
        found["failed_first"] = {
            "objective": worst["objective"],
            "name": worst["name"],
            "rate": lowest["rate"],
            "value": worst["value"],
            "met": worst["met"],
            "text": slo.describe(worst),
        }
    return found
