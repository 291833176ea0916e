"""`compare A B`: is B faster, slower, or the same as A within the noise each one measured?

A and B are result files or results folders (a folder: the newest result per experiment
and mode, as the report reads it). Measurements are matched by experiment, mode, strategy,
client, target, concurrency and rate; each matched pair gets B/A of throughput, p50 and p99
and a verdict per figure, judged against the spread of the runs behind it:

- both measured more than once (the sweep's `--repeat`): B differs from A when the ranges of
  their runs do not overlap even widened by half their width at each end (a few runs
  underestimate the range), or when |B/A - 1| is more than the two relative spreads
  ((highest - lowest) / median of each) together; and in both cases by at least MIN_EFFECT,
  so two very steady runs do not call a 1 % wobble a change;
- otherwise the runs say nothing of their noise: B differs when |B/A - 1| is more than a
  stated band (`--noise`, 10 % by default, the sweep's own threshold for a wide spread), and
  the output says the default band was used.

A measurement is slower when any of its figures is (throughput lower, or a latency higher),
faster when one is faster and none slower, else the same within noise. The maths is in pure
functions (judge, verdict, compare), the files and the command around them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from . import display, html, markdown
from .options import option
from .results import FIELDS, measurements, mode_order, read, show_unsaved
from .units import format_duration

HELP = "compare two results (files or folders): B/A per measurement, with a verdict against their spread"

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


# --- text ---------------------------------------------------------------------------------


def _value(metric: str, value) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if metric == "rps" else format_duration(value)


def _where(key: dict) -> str:
    parts = [key["experiment"], key["mode"]]
    parts += [str(key[f]) for f in ("strategy", "client") if key[f]]
    if key["target"]:
        parts.append(f"{key['target']} view")
    if key["concurrency"] is not None:
        parts.append(f"c={key['concurrency']}")
    if key["rate"]:
        parts.append(f"{key['rate']:g}/s")
    return " ".join(parts)


def _ratio(judged: dict) -> str:
    return "-" if judged["ratio"] is None else f"{judged['ratio']:.2f}x"


def table_rows(comparison: dict) -> tuple[list[str], list[list[str]]]:
    header = ["experiment", "mode", "strategy", "client", "target", "c"]
    for _, name, _ in METRICS:
        header += [f"{name} A", f"{name} B", f"{name} B/A"]
    header += ["requests A → B", "errors A → B", "verdict", "noise band", "judged on", "settings A → B"]
    rows = []
    for row in comparison["rows"]:
        key = row["key"]
        cells = [key["experiment"], key["mode"], key["strategy"] or "-", key["client"] or "-", key["target"] or "-"]
        cells.append(
            str(key["concurrency"]) if key["concurrency"] is not None else f"{key['rate']:g}/s" if key["rate"] else "-"
        )
        for metric, _, _ in METRICS:
            judged = row["figures"][metric]
            mark = "" if judged["verdict"] == SAME else f" ({judged['verdict']})"
            cells += [_value(metric, row["a"][metric]), _value(metric, row["b"][metric]), _ratio(judged) + mark]
        bands = {f"±{_percent(j['noise'])}" for j in row["figures"].values() if j["noise"] is not None}
        bases = {j["basis"] for j in row["figures"].values()}
        cells += [f"{row['a']['requests']} → {row['b']['requests']}", f"{row['a']['errors']} → {row['b']['errors']}"]
        cells += [row["verdict"], " / ".join(sorted(bands)) or "-"]
        cells += ["; ".join(sorted(bases)), "; ".join(row["differs"]) or "same"]
        rows.append(cells)
    return header, rows


def summary(comparison: dict) -> str:
    counts = {v: sum(row["verdict"] == v for row in comparison["rows"]) for v in (SLOWER, FASTER, SAME)}
    return ", ".join(f"{count} {name}" for name, count in counts.items()) + f" of {len(comparison['rows'])} matched"


def lines(comparison: dict, a_name: str, b_name: str, noise: float) -> list[str]:
    """The comparison as Markdown lines (compare.md, and compare.html through loadgen/html.py)."""
    header, rows = table_rows(comparison)
    out = [
        "# loadgen compare",
        "",
        f"A: `{a_name}`; B: `{b_name}`. {summary(comparison)}.",
        "",
        "B/A of throughput and of p50 and p99 for every measurement both have, matched by experiment, mode, "
        "strategy, client, target and concurrency. Measurements with repeated runs (the sweep's `--repeat`) are "
        "judged on them: B differs from A when the ranges of their runs, each widened by half its width at "
        "both ends, do not overlap, or when |B/A - 1| is "
        "more than the two relative spreads ((highest - lowest) / median) together, and in either case by at "
        f"least {_percent(MIN_EFFECT)}; one run each says nothing of its noise, so those are judged against a "
        f"default band of ±{_percent(noise)} (`--noise`). A measurement is *slower* when any figure is (throughput "
        "lower, latency higher, or errors where the other side had none or more of them: throughput counts 2xx "
        "answers only), *faster* when one is and none is slower; a side the host's neighbours disturbed is "
        "*not comparable*. *settings A → B* names the scenario "
        "settings (calls, delay, window, ...) the two ran differently: such a pair measured different things.",
        "",
    ]
    out += markdown.table(header, rows) if rows else ["No measurement is in both."]
    out.append("")
    for side, name in (("only_a", "A"), ("only_b", "B")):
        if comparison[side]:
            out += [f"Only in {name}:", ""]
            out += [f"- {_where(dict(zip(KEY, key, strict=True)))}" for key in comparison[side]]
            out.append("")
    return out


def terminal(comparison: dict) -> str:
    """A narrow table for the terminal: one line per measurement."""
    lines_ = []
    for row in comparison["rows"]:
        ratios = "  ".join(f"{name} {_ratio(row['figures'][metric]):>6}" for metric, name, _ in METRICS)
        ratios += f"  errors {row['a']['errors']} → {row['b']['errors']}"
        differs = f"  (settings differ: {'; '.join(row['differs'])})" if row["differs"] else ""
        lines_.append(f"{_where(row['key']):<48} {ratios}  {row['verdict']}{differs}")
    lines_.append(summary(comparison))
    return "\n".join(lines_)


# --- the command --------------------------------------------------------------------------


def _fraction(text: str) -> float:
    value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"a fraction between 0 and 1 (or a percentage): {text!r}")
    return value


def _condition(text: str) -> str:
    if text not in FAIL_IF:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(FAIL_IF)}: {text!r}")
    return text


def options(parser) -> None:
    option(
        parser,
        "a",
        env="LOADGEN_COMPARE_A",
        default=None,
        type=Path,
        nargs="?",
        help="result file or folder A (before)",
    )
    option(
        parser, "b", env="LOADGEN_COMPARE_B", default=None, type=Path, nargs="?", help="result file or folder B (after)"
    )
    option(
        parser,
        "--out",
        env="LOADGEN_COMPARE_OUT",
        default=None,
        type=Path,
        help="folder for compare.md and compare.html (default: B's folder)",
    )
    option(
        parser,
        "--noise",
        env="LOADGEN_COMPARE_NOISE",
        default=DEFAULT_NOISE,
        type=_fraction,
        help="the band for measurements without repeats, e.g. 0.1 or 10%%",
    )
    option(
        parser,
        "--fail-if",
        env="LOADGEN_COMPARE_FAIL_IF",
        default=None,
        type=_condition,
        dest="fail_if",
        help="exit 1 if any measurement is: slower, faster or different",
    )


def command(args) -> int:
    if args.a is None or args.b is None:
        print("loadgen compare: give two results, A and B (files or folders)", file=sys.stderr)
        return 2
    sides = []
    for path in (args.a, args.b):
        try:
            sides.append(read(path))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(f"loadgen compare: cannot read {path}: {exc}", file=sys.stderr)
            return 2
    comparison = compare(*sides, noise=args.noise)
    print(terminal(comparison))
    if not comparison["rows"]:
        print("loadgen compare: no measurement is in both A and B", file=sys.stderr)
        return 2
    out = args.out or (args.b if args.b.is_dir() else args.b.parent)
    text = lines(comparison, str(args.a), str(args.b), args.noise)
    for path, content, what in (
        (out / "compare.md", "\n".join(text), "comparison"),
        (out / "compare.html", html.page(text, out), "HTML comparison"),
    ):
        try:
            out.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        except OSError as exc:
            show_unsaved(path, exc, content, what)
            return 2
        print(f"{what}: {path}")
    bad = failed(comparison, args.fail_if)
    for row in bad:
        print(f"loadgen: --fail-if {args.fail_if}: {_where(row['key'])} is {row['verdict']}", file=sys.stderr)
    return 1 if bad else 0
