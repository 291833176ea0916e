"""Service-level objectives (`--slo p99=500ms`, `--slo errors=0.1%`) and the judgement of one
measurement against them. Pure functions: `loadgen capacity` (loadgen/search.py) asks
them, step by step, whether a rate was carried.

What an objective promises, and what it takes to judge one:
- a latency objective is a percentile (p50, p90, p99, p999) at or under a duration; it is
  judged only on a measurement with the samples that percentile needs (100 / (100 - q):
  1,000 for p99.9), since below that the "percentile" is the maximum of a few;
- a percentile a timed-out request may have set is known only as "at least": it meets
  nothing, as a latency under the limit cannot be shown;
- the error objective is the share of requests that were not a 2xx answer (errors by
  status and transport failures, as loadgen/tally.py counts them), at or under a fraction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .stats import PERCENTILES, percentile_name, samples_needed
from .units import format_duration, parse_duration

ERRORS = "errors"
# A latency objective is at most this: a target longer than an hour is no service level,
# and no request outlives loadgen's own timeout bound by much more.
LONGEST = 3600.0
# The assumed error objective when none is given: a rate that fails requests fast must not
# pass for one carried within a latency target (errors never count as speed).
DEFAULT_ERRORS = 0.001
_OBJECTIVE = re.compile(r"\s*([a-z0-9.]+)\s*(?:=|<=|<)\s*(\S+)\s*")
# p99.9 as people write it, beside the results' own name (p999).
_NAMES = {percentile_name(q): q for q in PERCENTILES} | {f"p{q:g}": q for q in PERCENTILES}


@dataclass(frozen=True)
class Objective:
    """One objective: `name` p50 / p90 / p99 / p999 (limit in seconds) or errors (a fraction)."""

    name: str
    limit: float

    @property
    def quantile(self) -> float | None:
        return _NAMES.get(self.name)

    @property
    def samples(self) -> int:
        """The measured requests it takes to judge it: a percentile's 100 / (100 - q); one
        request for the error rate (any count shows a rate, a small one coarsely)."""
        return samples_needed(self.quantile) if self.quantile is not None else 1

    @property
    def text(self) -> str:
        if self.name == ERRORS:
            return f"errors <= {percent(self.limit)}"
        return f"{self.name} <= {format_duration(self.limit)}"


def percent(fraction: float) -> str:
    return f"{100 * fraction:.3g} %"


def parse(text: str) -> Objective:
    """'p99=500ms', 'p99.9<2s', 'errors=0.1%' or 'errors=0.001'; ValueError saying what is wrong."""
    match = _OBJECTIVE.fullmatch(str(text).lower())
    if not match:
        raise ValueError(f"not an objective: {text!r} (examples: p99=500ms, errors=0.1%)")
    name, raw = match.groups()
    if name == ERRORS:
        try:
            value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
        except ValueError:
            raise ValueError(f"an error rate is a fraction or a percentage: {text!r} (e.g. errors=0.1%)") from None
        if not 0 < value < 1:
            raise ValueError(
                f"an error rate objective is more than 0 and less than 100 %: {text!r} "
                "(no finite run can show a rate of exactly 0)"
            )
        return Objective(ERRORS, value)
    if name not in _NAMES:
        known = ", ".join(percentile_name(q) for q in PERCENTILES)
        raise ValueError(f"unknown objective {name!r} in {text!r}: use {known} or errors")
    try:
        value = parse_duration(raw)
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None
    if not 0 < value <= LONGEST:
        raise ValueError(f"a latency objective is more than 0 and at most 1 h: {text!r}")
    return Objective(percentile_name(_NAMES[name]), value)


def objectives(given: list[Objective]) -> tuple[Objective, ...]:
    """The objectives a search holds every step to: those given, each once, latency first,
    and the default error objective when none was given. ValueError for one given twice."""
    names = [o.name for o in given]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"an objective is given twice: {', '.join(twice)}")
    if not any(o.quantile is not None for o in given):
        raise ValueError("give at least one latency objective, e.g. --slo p99=500ms")
    found = sorted(given, key=lambda o: (o.quantile is None, o.quantile or 0.0))
    if ERRORS not in names:
        found.append(Objective(ERRORS, DEFAULT_ERRORS))
    return tuple(found)


def samples(given: tuple[Objective, ...]) -> int:
    """The measured requests a step needs for every objective to be judged."""
    return max(o.samples for o in given)


def judge(objective: Objective, figures: dict) -> dict:
    """One objective against one measurement's figures: {"objective", "value", "limit",
    "met" (True, False, or None when it cannot be judged), "why", "ratio" (value / limit)}."""
    count = (figures.get("latency") or {}).get("count") or 0
    if objective.name == ERRORS:
        value = figures.get("error_rate")
        requests = figures.get("requests") or 0
        if value is None or not requests:
            return _verdict(objective, None, None, "no request was measured")
        return _verdict(objective, value, value <= objective.limit, f"{figures.get('errors', 0)} of {requests}")
    value = figures.get(objective.name)
    if count < objective.samples:
        return _verdict(objective, value, None, f"{count} samples, {objective.name} needs {objective.samples}")
    if value is None:
        return _verdict(objective, None, None, "no latency was measured")
    floor = (figures.get("latency") or {}).get("lower_bound_from")
    if floor is not None and value >= floor:
        # Set by a timed-out request: at least this, so never shown to be under the limit.
        return _verdict(objective, value, False, "at least this: timed-out requests set it")
    return _verdict(objective, value, value <= objective.limit, f"{count} samples")


def _verdict(objective: Objective, value, met, why: str) -> dict:
    return {
        "objective": objective.text,
        "name": objective.name,
        "value": value,
        "limit": objective.limit,
        "met": met,
        "why": why,
        "ratio": value / objective.limit if value is not None else None,
    }


def verdicts(given: tuple[Objective, ...], figures: dict) -> list[dict]:
    return [judge(o, figures) for o in given]


def met(judged: list[dict]) -> bool:
    """A step is carried only when every objective was judged and met: one that could not
    be judged (too few samples) shows nothing, so it does not pass."""
    return all(v["met"] is True for v in judged)


def worst(judged: list[dict]) -> dict | None:
    """The objective a failed step failed by the most (value / limit, unjudged last)."""
    failed = [v for v in judged if v["met"] is not True]
    if not failed:
        return None
    return max(failed, key=lambda v: (v["met"] is False, v["ratio"] if v["ratio"] is not None else 0.0))


def describe(verdict: dict) -> str:
    """'p99 <= 500.0 ms: 812.0 ms' / 'errors <= 0.1 %: 2.5 %' / '... not judged: 40 samples ...'."""
    if verdict["met"] is None:
        return f"{verdict['objective']}: not judged ({verdict['why']})"
    value = verdict["value"]
    shown = percent(value) if verdict["name"] == ERRORS else format_duration(value)
    if verdict["why"].startswith("at least"):
        shown = f">= {shown}"
    return f"{verdict['objective']}: {shown}"
