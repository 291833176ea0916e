"""Two results side by side, measurement by measurement: B/A of each figure and a verdict on it
judged against the spread each side measured (the maths of `loadgen compare`, whose
command and tables are loadgen/compare.py's).

- both measured more than once (the sweep's `--repeat`): B differs from A when the ranges of
  their runs do not overlap even widened by half their width at each end (a few runs
  underestimate the range), or when |B/A - 1| is more than the two relative spreads
  ((highest - lowest) / median of each) together; and in both cases by at least MIN_EFFECT,
  so two very steady runs do not call a 1 % wobble a change;
- otherwise the runs say nothing of their noise: B differs when |B/A - 1| is more than a
  stated band (`--noise`, 10 % by default, the sweep's own threshold for a wide spread);
- errors are a figure too: errors where the other side had none are worse whatever the
  throughput, and a side the host's neighbours disturbed is not comparable.
"""

from __future__ import annotations

import statistics

from . import display
from .results import FIELDS, measurements, mode_order

DEFAULT_NOISE = 0.10


MIN_EFFECT = 0.03


# (figure, its name in tables, whether more is better)
METRICS = (("rps", "req/s", True), ("p50", "p50", False), ("p99", "p99", False))


KEY = ("experiment", "mode", *FIELDS)


SAME, FASTER, SLOWER = "same within noise", "faster", "slower"
NOT_COMPARABLE = "not comparable"


FAIL_IF = {"slower": (SLOWER,), "faster": (FASTER,), "different": (SLOWER, FASTER)}


def _percent(value: float) -> str:
    return f"{value:.0%}".replace("%", " %")


def relative_spread(runs: list[float]) -> float:
    """(highest - lowest) / median of a measurement's runs."""
    middle = statistics.median(runs)
    return (max(runs) - min(runs)) / middle if middle else float("inf")


def apart_ranges(a_runs: list[float], b_runs: list[float]) -> bool:
    """Do the two ranges of runs stay apart when each is widened by half its width at both ends?"""
    gap = max(min(b_runs) - max(a_runs), min(a_runs) - max(b_runs))
    return gap > ((max(a_runs) - min(a_runs)) + (max(b_runs) - min(b_runs))) / 2


def judge(a_runs: list[float], b_runs: list[float], a: float, b: float, more_is_better: bool, noise=DEFAULT_NOISE):
    """The verdict on one figure: a and b are the shown values (the median run's), *_runs
    every run's. {"ratio", "verdict", "noise" (the band used, relative), "basis"}."""
    if not a or b is None:
        return {"ratio": None, "verdict": "not comparable", "noise": None, "basis": "a figure is missing or zero"}
    ratio = b / a
    change = ratio - 1
    if len(a_runs) >= 2 and len(b_runs) >= 2:
        band = relative_spread(a_runs) + relative_spread(b_runs)
        apart = apart_ranges(a_runs, b_runs)
        differs = abs(change) >= MIN_EFFECT and (apart or abs(change) > band)
        basis = f"runs {len(a_runs)} vs {len(b_runs)}" + (", ranges apart" if apart else ", ranges overlap")
    else:
        band = noise
        differs = abs(change) > band
        basis = f"default band ±{_percent(noise)}: no repeats"
    if not differs:
        return {"ratio": ratio, "verdict": SAME, "noise": band, "basis": basis}
    better = change > 0 if more_is_better else change < 0
    return {"ratio": ratio, "verdict": FASTER if better else SLOWER, "noise": band, "basis": basis}


def judge_errors(a: dict, b: dict, noise: float = DEFAULT_NOISE) -> dict:
    """The verdict on errors: a side that failed where the other did not is worse whatever
    its throughput (errors never count as speed); both failing, their error rates compared."""
    ra, rb = a.get("error_rate") or 0.0, b.get("error_rate") or 0.0
    if ra == rb:
        return {"ratio": None if not ra else 1.0, "verdict": SAME, "noise": None, "basis": "error rates equal"}
    if not ra or not rb:
        worse = SLOWER if rb > ra else FASTER
        return {"ratio": None, "verdict": worse, "noise": None, "basis": f"errors {_percent(ra)} → {_percent(rb)}"}
    ratio = rb / ra
    differs = abs(ratio - 1) > noise
    return {
        "ratio": ratio,
        "verdict": SAME if not differs else SLOWER if ratio > 1 else FASTER,
        "noise": noise,
        "basis": f"error rates {_percent(ra)} → {_percent(rb)}",
    }


def verdict(figures: dict[str, dict]) -> str:
    """One measurement's verdict from its figures': a regression anywhere is a regression."""
    found = {judged["verdict"] for judged in figures.values()}
    if SLOWER in found:
        return SLOWER
    return FASTER if FASTER in found else SAME


def _runs(measurement: dict, metric: str) -> list[float]:
    return [run[metric] for run in measurement["repeats"] if run.get(metric) is not None]


# Scenario settings that change what a measurement measures: a pair that differs in one is
# still compared, with the difference named beside it.
SETTINGS = ("n", "delay", "duration", "warmup", "deadline", "timeout", "workers", "urls")


def cells(latest: dict) -> dict[tuple, dict]:
    """Every measurement of every result, by its key (KEY's fields)."""
    found = {}
    for (experiment, mode), result in latest.items():
        for m in measurements(result):
            key = (experiment, mode, *(m[field] for field in FIELDS))
            found[key] = {**m, "file": result.get("_file"), "scenario": result.get("scenario") or {}}
    return found


def differences(a: dict, b: dict) -> list[str]:
    """The SETTINGS two scenarios both have but set differently, as 'delay 1 → 0.2'."""
    return [
        f"{name} {a[name]} → {b[name]}"
        for name in SETTINGS
        if a.get(name) is not None and b.get(name) is not None and a[name] != b[name]
    ]


def compare(a: dict, b: dict, noise: float = DEFAULT_NOISE) -> dict:
    """Both sides' measurements matched and judged: {"rows": [...], "only_a": [keys], "only_b": [keys]}."""
    ca, cb = cells(a), cells(b)
    rows = []
    order = sorted(set(ca) & set(cb), key=lambda k: (k[0], mode_order(k[1]), *(str(x) for x in k[2:])))
    for key in order:
        ma, mb = ca[key], cb[key]
        judged = {
            metric: judge(
                _runs(ma, metric), _runs(mb, metric), ma["figures"].get(metric), mb["figures"].get(metric), more, noise
            )
            for metric, _, more in METRICS
        }
        judged["errors"] = judge_errors(ma["figures"], mb["figures"], noise)
        disturbed = [side for side, m in (("A", ma), ("B", mb)) if m["figures"].get("disturbed")]
        rows.append(
            {
                "key": dict(zip(KEY, key, strict=True)),
                "a": {metric: ma["figures"].get(metric) for metric, _, _ in METRICS}
                | {"errors": display.errors(ma["figures"]), "requests": ma["figures"].get("requests")},
                "b": {metric: mb["figures"].get(metric) for metric, _, _ in METRICS}
                | {"errors": display.errors(mb["figures"]), "requests": mb["figures"].get("requests")},
                "figures": judged,
                # A side the host's neighbours disturbed measured them too: no verdict on it.
                "verdict": f"{NOT_COMPARABLE}: {' and '.join(disturbed)} disturbed" if disturbed else verdict(judged),
                "differs": differences(ma["scenario"], mb["scenario"]),
            }
        )
    return {"rows": rows, "only_a": sorted(set(ca) - set(cb), key=str), "only_b": sorted(set(cb) - set(ca), key=str)}


def failed(comparison: dict, condition: str | None) -> list[dict]:
    """The rows that make `--fail-if condition` fail."""
    if not condition:
        return []
    return [row for row in comparison["rows"] if row["verdict"] in FAIL_IF[condition]]
