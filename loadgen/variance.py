"""Where a sweep's spread comes from, measured: every repeat's deviation from its cell's
median set beside what could have moved it.

Within a cell the repeats differ only in when they ran, so each candidate cause is taken
as its difference from the cell's own mean, pooled over the cells of a mode, and ranked
against the deviation (Spearman's rho: no straight line assumed, an outlier weighs one
rank). Between cells, a closed loop whose window holds only a few turns (window / mean
latency) counts completions in waves of `concurrency`, so one wave more or less moves its
throughput by a large step: that is set against each cell's spread instead.

Over 250 lines: each candidate cause of spread and the ranking they share are one analysis.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Sequence

from . import bounds, budgets, markdown

# A candidate is named a cause only when |rho| is at least STRONG over at least MIN_POINTS
# and chance alone would rarely give it: over PERMUTATIONS reshuffles of the deviations
# within each cell, the largest rho any candidate reached beat this one's at most ALPHA of
# the time (the max-statistic permutation test, which holds the chance of naming any cause
# on pure noise to ALPHA however many candidates there are). Turns per window, judged
# between cells, has its own permutation test; the two share ALPHA.
STRONG = 0.5
MIN_POINTS = 6
ALPHA = 0.05
PERMUTATIONS = 1000


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rank correlation; None with under 3 points or a constant side."""
    if len(xs) != len(ys) or len(xs) < 3:
        return None
    rx, ry = ranks(xs), ranks(ys)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    return sxy / (sxx * syy) ** 0.5 if sxx and syy else None


def _lab_busy(figures: dict, result: dict, cell: dict) -> float | None:
    # An open-loop cell has a rate and no concurrency: its ideal is the rate it offered.
    scenario = {
        **result["scenario"],
        "strategy": cell["strategy"],
        "concurrency": cell.get("concurrency"),
        "rate": cell.get("rate"),
    }
    return bounds.judge(figures, scenario, result["environment"]).get("lab_busy")


def _steal(figures: dict, result: dict, cell: dict) -> float | None:
    return (figures.get("machine") or {}).get("steal_share")


def _neighbour(figures: dict, result: dict, cell: dict) -> float | None:
    host, lab = (figures.get("machine") or {}).get("busy_share"), _lab_busy(figures, result, cell)
    return None if host is None or lab is None else max(0.0, host - lab)


def _growth(name: str) -> Callable[[dict, dict, dict], float | None]:
    def threads(figures: dict, result: dict, cell: dict) -> float | None:
        seen = (figures.get("services") or {}).get(name) or {}
        peak, idle = seen.get("threads_peak"), seen.get("threads_idle")
        return None if peak is None or idle is None else peak - idle

    return threads


def _gc(figures: dict, result: dict, cell: dict) -> float | None:
    """Seconds both services spent in garbage collection, where their telemetry counts it."""
    seen = [(figures.get("services") or {}).get(name) or {} for name in budgets.SERVICES]
    values = [s.get("gc_seconds") for s in seen]
    return None if any(v is None for v in values) else sum(values)


# (name, what it is, how to read it from one repeat's figures, the sign rho has if it is a
# cause: each of these takes time from the run, so more of it must mean a slower run).
# The round is not here: it is the repeat's position, added by deviations().
WITHIN = (
    ("CPU steal", "the share of the cores the host's hypervisor took (/proc/stat)", _steal, -1),
    ("neighbours", "host CPU busy beyond the lab's three processes (/proc/stat minus their own)", _neighbour, -1),
    ("backend thread growth", "threads the backend started during the run (peak - idle)", _growth("backend"), -1),
    ("gateway thread growth", "threads the gateway started during the run (peak - idle)", _growth("gateway"), -1),
    ("garbage collection", "seconds both services spent in the collector", _gc, -1),
)


def deviations(result: dict) -> list[dict]:
    """One row per repeat: its cell, round, deviation from the cell's median throughput and
    each factor's difference from the cell's mean (None where a repeat lacks it)."""
    rows = []
    for cell in result["cells"]:
        repeats = cell.get("repeats") or []
        rates = [r.get("rps") for r in repeats]
        if len(repeats) < 2 or any(r is None for r in rates) or not statistics.median(rates):
            continue
        middle = statistics.median(rates)
        factors = {}
        for name, _, read, _ in WITHIN:
            values = [read(r, result, cell) for r in repeats]
            mean = None if any(v is None for v in values) else statistics.fmean(values)
            factors[name] = [None if mean is None else v - mean for v in values]
        for i, rate in enumerate(rates):
            rows.append(
                {
                    "cell": (cell["strategy"], cell.get("client"), cell["concurrency"]),
                    "round": i + 1,
                    "deviation": rate / middle - 1,
                    **{name: factors[name][i] for name in factors},
                }
            )
    return rows


def turns(cell: dict) -> float | None:
    """Closed-loop turns the median run's window held: window / mean latency."""
    f = cell["figures"]
    mean = f.get("mean") or (f.get("latency") or {}).get("mean")
    return f["window"] / mean if f.get("window") and mean else None


def _centred_ranks(values: Sequence[float]) -> list[float]:
    r = ranks(values)
    mean = statistics.fmean(r)
    return [x - mean for x in r]


def _norm(values: Sequence[float]) -> float:
    return sum(v * v for v in values) ** 0.5


def within_pvalues(rows: list[dict], names: list[tuple[str, int]], seed: int = 0) -> dict[str, float]:
    """Each within-cell candidate's p-value against the largest of all candidates' rho over
    the deviations reshuffled within their cells (a repeat's factor stays with its cell)."""
    tests = []
    for name, sign in names:
        subset = [i for i, row in enumerate(rows) if row.get(name) is not None]
        if len(subset) < 3:
            continue
        x = _centred_ranks([rows[i][name] for i in subset])
        y = ranks([rows[i]["deviation"] for i in subset])
        norm = _norm(x) * _norm(_centred_ranks([rows[i]["deviation"] for i in subset]))
        if not norm:
            continue
        mean_y = statistics.fmean(y)
        rank_of = {i: y[k] - mean_y for k, i in enumerate(subset)}
        tests.append((name, sign, subset, x, rank_of, norm))
    if not tests:
        return {}

    def statistic(sign: int, rho: float) -> float:
        return abs(rho) if sign == 0 else sign * rho

    def rho_of(test, moved: dict[int, int]) -> float:
        _, _, subset, x, rank_of, norm = test
        return sum(xi * rank_of[moved[i]] for xi, i in zip(x, subset, strict=True)) / norm

    cells: dict[object, list[int]] = {}
    for i, row in enumerate(rows):
        cells.setdefault(row["cell"], []).append(i)
    identity = {i: i for i in range(len(rows))}
    observed = {test[0]: statistic(test[1], rho_of(test, identity)) for test in tests}
    rng = random.Random(seed)
    beaten = dict.fromkeys(observed, 0)
    for _ in range(PERMUTATIONS):
        moved = {}
        for members in cells.values():
            shuffled = members[:]
            rng.shuffle(shuffled)
            moved.update(zip(members, shuffled, strict=True))
        top = max(statistic(test[1], rho_of(test, moved)) for test in tests)
        for name, value in observed.items():
            beaten[name] += top >= value - 1e-12
    return {name: (1 + beaten[name]) / (1 + PERMUTATIONS) for name in observed}


def between_pvalue(turns: list[float], spreads: list[float], seed: int = 0) -> float | None:
    """Fewer turns, wider spread: how often reshuffled spreads give a rho as far below zero."""
    observed = spearman(turns, spreads)
    if observed is None:
        return None
    rng = random.Random(seed)
    shuffled, beaten = list(spreads), 0
    for _ in range(PERMUTATIONS):
        rng.shuffle(shuffled)
        rho = spearman(turns, shuffled)
        beaten += rho is not None and rho <= observed + 1e-12
    return (1 + beaten) / (1 + PERMUTATIONS)


def explain(result: dict) -> dict:
    """Each candidate's rho with the deviation (or, for turns, with the cells' spread), its
    p-value, the mean deviation per round, and which candidates are causes."""
    rows = deviations(result)
    found = []
    by_round: dict[int, list[float]] = {}
    for row in rows:
        by_round.setdefault(row["round"], []).append(row["deviation"])
    rounds = {r: statistics.fmean(d) for r, d in sorted(by_round.items())}
    # A sequence may rise (warm-up) or fall (something filling up): either sign is a cause.
    candidates = [("round", "the repeat's round (a rising or falling sequence)", 0)]
    candidates += [(name, what, sign) for name, what, _, sign in WITHIN]
    pvalues = within_pvalues(rows, [(name, sign) for name, _, sign in candidates])
    for name, what, sign in candidates:
        pairs = [(row[name], row["deviation"]) for row in rows if row.get(name) is not None]
        rho = spearman([p[0] for p in pairs], [p[1] for p in pairs]) if pairs else None
        found.append(
            {
                "factor": name,
                "what": what,
                "points": len(pairs),
                "rho": rho,
                "p": pvalues.get(name),
                "against": "deviation",
                "sign": sign,
            }
        )
    cells = [(turns(c), (c.get("spread") or {}).get("rps")) for c in result["cells"]]
    cells = [(t, s) for t, s in cells if t is not None and s is not None]
    found.append(
        {
            "factor": "turns per window",
            "what": "window / mean latency: a closed loop counts completions in waves of `concurrency`",
            "points": len(cells),
            "rho": spearman([t for t, _ in cells], [s for _, s in cells]) if cells else None,
            "p": between_pvalue([t for t, _ in cells], [s for _, s in cells]) if len(cells) >= 3 else None,
            "against": "spread",
            "sign": -1,  # fewer turns, wider spread
        }
    )
    for f in found:
        f["strong"] = f["rho"] is not None and f["points"] >= MIN_POINTS and abs(f["rho"]) >= STRONG
        # Each family (within cells, between cells) gets half of ALPHA.
        f["significant"] = f["p"] is not None and f["p"] <= ALPHA / 2
        # Strong the other way is an effect, not a cause: a faster run has more calls in
        # flight, so it starts more threads.
        f["cause"] = f["strong"] and f["significant"] and (f["sign"] == 0 or f["rho"] * f["sign"] > 0)
    return {"rounds": rounds, "factors": found, "repeats": len(rows)}


def _rho(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2f}"


def verdict(factor: dict) -> str:
    if factor["points"] < MIN_POINTS:
        return "too few points"
    if factor["cause"]:
        return "**a cause**"
    if factor["strong"] and factor["rho"] * factor["sign"] < 0:
        return "moves with it the wrong way for a cause: an effect of the load"
    if factor["strong"]:
        return "strong, but chance alone could have made it here"
    return "no"


def section(result: dict, mode: str) -> list[str]:
    """The report's "where the spread comes from" lines for one mode's sweep."""
    found = explain(result)
    if found["repeats"] < MIN_POINTS:
        return []
    rounds = ", ".join(f"round {r}: {d:+.1%}".replace("%", " %") for r, d in found["rounds"].items())
    rows = [
        [
            f["factor"],
            f["what"],
            f["points"],
            f"{_rho(f['rho'])} (with the {f['against']})",
            "-" if f.get("p") is None else f"{f['p']:.3f}",
            verdict(f),
        ]
        for f in found["factors"]
    ]
    strong = [f["factor"] for f in found["factors"] if f["cause"]]
    return [
        f"#### Where the spread comes from ({mode})",
        "",
        f"Each repeat's throughput against its cell's median, over {found['repeats']} repeats: mean deviation "
        f"{rounds}. Each candidate is ranked against that deviation as its difference from its cell's mean "
        f"(Spearman's rho); turns per window is ranked against each cell's spread. A candidate is a cause when "
        f"|rho| >= {STRONG:g} over at least {MIN_POINTS} points, with the sign of a cause, and *p* (how often "
        f"the deviations reshuffled within their cells, {PERMUTATIONS} times, gave any candidate a rho as "
        f"strong) is at most {ALPHA / 2:g}: on pure noise that names a cause in at most {ALPHA:.0%} of sweeps "
        "(tests/loadgen/test_variance.py checks it on many seeds). Causes that move together (the first round "
        "is also the one with the most steal, say) cannot be told apart by one run: the table names both.",
        "",
        *markdown.table(("candidate", "what", "points", "rho", "p", "verdict"), rows),
        "",
        ("Measured causes here: " + ", ".join(strong) + "." if strong else "No candidate explains the spread here."),
        "",
    ]
