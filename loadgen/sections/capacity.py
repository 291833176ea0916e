"""The capacity experiment's terminal table and report section (loadgen/experiments/capacity.py
searches): each configuration's capacity with its spread and counts, what failed above it,
and latency against offered load (the "hockey stick") with the objectives drawn on it."""

from __future__ import annotations

from .. import display, markdown, model, plots, search, slo
from ..experiments.capacity import quotas
from ..results import mode_order
from . import Section

NAME = "capacity"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}".replace("%", " %")


def configuration(result: dict) -> str:
    s = result["scenario"]
    if not s.get("strategy"):
        return s["url"]
    text = f"{s['strategy']}/{s['client']}, {s['target']} view, n={s['n']}, delay {s['delay']:g} s"
    gateway, backend = quotas(result["environment"])
    if gateway or backend:
        text += ", CPU " + " / ".join("-" if q is None else f"{q:g}" for q in (gateway, backend))
    return text


def headline(capacity: dict) -> str:
    """One sentence: the capacity with its spread and counts, or why there is none."""
    status = capacity["status"]
    if status == search.UNREACHABLE:
        return "no capacity: the first step already failed"
    rate, offered = capacity["rate"], capacity["offered"]
    runs = len(capacity["runs"])
    text = (
        f"{rate:.1f} aggregations/s carried at {offered:g}/s offered, spread {_percent(capacity['spread'])} "
        f"over {runs} runs ({capacity['confirmed']} of {runs} met every objective)"
    )
    if status == search.AT_MAX:
        text = "at least " + text + ": every step up to --max-rate met the objectives"
    elif status == search.AT_LEAST:
        text = f"at least {text}: the search stopped ({capacity['stopped_by']}) before any step failed"
    elif status == search.UNCONFIRMED:
        text += ": NOT CONFIRMED (most confirmations failed even after stepping down)"
    return text


def above(capacity: dict) -> str:
    failed = capacity.get("failed_first")
    if not failed:
        return "-"
    return f"{failed['rate']:g}/s: {failed['text']}"


def step_rows(result: dict) -> list[list]:
    rows = []
    for step in result["steps"]:
        f = step["figures"]
        rows.append(
            [
                f"{step['rate']:g}",
                step["phase"],
                "met" if step["met"] else "FAILED",
                display.requests(f),
                f"{f['rps']:.1f}",
                display.latency(f, "p50"),
                display.latency(f, "p99"),
                display.errors(f),
                "; ".join(slo.describe(v) for v in step["verdicts"] if v["met"] is not True) or "-",
            ]
        )
    return rows


STEP_HEADER = ("offered /s", "phase", "verdict", "requests", "ok/s", "p50", "p99", "errors", "missed")


def table(result: dict) -> str:
    capacity = result["capacity"]
    lines = [
        f"capacity, SERVER_MODE={result['environment']['server_mode']}: {configuration(result)}; "
        f"objectives {', '.join(result['scenario']['slo'])}",
        *markdown.table(STEP_HEADER, step_rows(result)),
        f"capacity: {headline(capacity)}",
        f"failed first above it: {above(capacity)}",
    ]
    return "\n".join(lines)


# How the report's capacity column marks a capacity that is not simply found.
MARKS = {search.AT_MAX: " (at least)", search.AT_LEAST: " (at least)", search.UNCONFIRMED: " (unconfirmed)"}


def keys(latest: dict) -> list[tuple[str, str]]:
    """Every capacity result: one per configuration (capacity/<strategy>-<client>) and mode;
    another Django's results (capacity@3.1) are the versions section's."""
    found = [k for k in latest if k[0].split("/")[0] == NAME and "@" not in k[0]]
    return sorted(found, key=lambda k: (mode_order(k[1]), k[0]))


def section(latest: dict, folder) -> Section:
    found = keys(latest)
    if not found:
        return Section([])
    header = ("mode", "configuration", "objectives", "capacity (ok/s)", "offered", "spread", "runs", "steps", "above")
    rows = []
    for key in found:
        result = latest[key]
        capacity = result["capacity"]
        rate = capacity["rate"]
        rows.append(
            [
                key[1],
                configuration(result),
                ", ".join(result["scenario"]["slo"]),
                "-" if rate is None else f"{rate:.1f}" + MARKS.get(capacity["status"], ""),
                "-" if capacity["offered"] is None else f"{capacity['offered']:g}/s",
                _percent(capacity["spread"]),
                f"{capacity['confirmed']} of {len(capacity['runs'])} met" if capacity["runs"] else "-",
                capacity["steps"],
                above(capacity),
            ]
        )
    modelled = model_rows(latest, found)
    drawn = plots.capacity([(f"{key[1]}: {configuration(latest[key])}", latest[key]) for key in found], folder, found)
    return Section(
        [
            "## Capacity",
            "",
            "The highest open-loop rate each configuration carried while meeting every objective, found by "
            "`loadgen capacity` (docs/capacity.md): a geometric ramp until an objective failed, a bisection to the "
            "stated resolution, then the found rate run again. *capacity* is the median of those runs' successful "
            "(2xx) aggregations a second, *spread* their (highest - lowest) / median, *runs* how many met every "
            "objective, *above* the lowest failed rate above it and the objective it missed by the most; *CPU* the "
            "gateway's / backend's quota in cores. Each step "
            "ran long enough for its percentile (100 / (100 - q) samples) after a warm-up, on idle services.",
            "",
            *markdown.table(header, rows),
            "",
            *([drawn.markdown, ""] if drawn else []),
            *modelled,
        ],
        [drawn] if drawn else [],
    )


def _predicted(found: dict) -> str:
    return f"{found['rate']:.1f} ({found['binding']})"


def model_rows(latest: dict, found: list[tuple[str, str]]) -> list[str]:
    """The cost model (loadgen/model.py) beside each measured capacity, and its projections."""
    rows = []
    for key in found:
        checked = latest[key].get("model")
        if not checked:
            continue
        rows.append(
            [
                key[1],
                configuration(latest[key]),
                f"{latest[key]['capacity']['rate']:.1f}",
                _predicted(checked["predicted"]),
                f"{checked['ratio']:.2f}",
                f"{checked['calibrated_at']:g}/s"
                + (f" and {checked['calibrated_with']:g}/s" if checked.get("calibrated_with") else ""),
                *(_predicted(p) for p in checked["projections"]),
            ]
        )
    if not rows:
        return []
    cores = [
        f"{p['cores']:g} cores each (projection)"
        for p in next(latest[k]["model"] for k in found if latest[k].get("model"))["projections"]
    ]
    header = (
        "mode",
        "configuration",
        "measured",
        "predicted (binds first)",
        "measured / predicted",
        "calibrated at",
        *cores,
    )
    return [
        "### The cost model against measurement",
        "",
        "Each component's CPU seconds per aggregation at the margin and its idle share of a core, from the "
        "search's two lowest rates that met the objectives (CPU over a window = idle x window + margin x "
        "aggregations), against the cores it may use less the idle share (one per worker with the GIL, kept "
        f"{_percent(model.UTILISATION)} busy at most), and each "
        "thread pool against the thread-seconds an aggregation holds (Little's law): the lowest is the "
        "predicted capacity, and what binds first. The projections give each service more cores (a worker "
        "per core, each with its threads): they are arithmetic, not measurements.",
        "",
        *markdown.table(header, rows),
        "",
    ]
