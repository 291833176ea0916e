"""`compare A B`: is B faster, slower, or the same as A within the noise each one measured?

A and B are result files or results folders (a folder: the newest result per experiment
and mode, as the report reads it). Measurements are matched by experiment, mode, strategy,
client, target, concurrency and rate; each matched pair gets B/A of throughput, p50 and p99,
its errors, and a verdict per figure judged against the spread of the runs behind it (the
rules and the maths: loadgen/comparison.py). This module is the command: the files, the
tables on the terminal and in compare.md / compare.html, and --fail-if.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import html, markdown
from .comparison import (
    DEFAULT_NOISE,
    FAIL_IF,
    FASTER,
    KEY,
    METRICS,
    MIN_EFFECT,
    SAME,
    SLOWER,
    _percent,
    compare,
    failed,
)
from .options import option
from .results import read, show_unsaved
from .units import format_duration

HELP = "compare two results (files or folders): B/A per measurement, with a verdict against their spread"


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
