"""The freethreaded experiment's terminal table and report section (loadgen/experiments/
freethreaded.py measures; `make freethreaded` runs it on PYTHON=3.14 and 3.14t): the two
interpreters side by side, and verdicts on the article's two Part III claims, each a stated
rule (docs/freethreaded.md) over the figures with their counts and spreads.

Over 250 lines: the side-by-side table and each verdict's stated rule belong to one section.
"""

from __future__ import annotations

from .. import markdown
from ..experiments import freethreaded
from ..results import mode_order
from ..units import format_duration
from . import Section

# The article's Part III, word for word where it is quoted.
MULTICORE_CLAIM = "impossible to do things on multiple CPUs using only one OS process"
SLOWER_CLAIM = "removing the GIL makes Python at least an order of magnitude slower"

# Claim 1's rule, on the 2-thread / 1-thread throughput ratio of one process (its range
# over the runs, experiment.ratio): with the GIL a second thread adds nothing but switching,
# so the claim holds where even the best pairing of runs stays under HOLDS_BELOW; one
# process used more than one core where even the worst pairing reaches USES_TWO_FROM, half
# a second core's worth (the target for 3.14t is 1.7x, for 3.14 at most 1.15x).
HOLDS_BELOW = 1.15
USES_TWO_FROM = 1.5
# Claim 2's rule, on the single-thread CPU per request of 3.14t over 3.14: an order of
# magnitude is 10x; the claim holds where even the lowest pairing reaches it, and fails
# where even the highest stays under it.
ORDER_OF_MAGNITUDE = 10.0
# Runs each side of a ratio needs before it decides anything.
MIN_RUNS = 2


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}".replace("%", " %")


def _summary(seen: dict | None, unit: str = "", digits: int = 1) -> str:
    if not seen or seen.get("median") is None:
        return "-"
    return f"{seen['median']:.{digits}f}{unit} ± {_percent(seen['spread'])} (n={seen['count']})"


def _ratio(seen: dict | None) -> str:
    if not seen or seen.get("median") is None:
        return "-"
    return f"{seen['median']:.2f}x ({seen['low']:.2f}-{seen['high']:.2f}, n={'/'.join(map(str, seen['counts']))})"


def _kib(parked: dict | None) -> str:
    each = (parked or {}).get("bytes_each")
    return (parked or {}).get("error", "-") if each is None else f"{each / 1024:.1f} KiB"


def gil_line(result: dict) -> str:
    """The interpreter, what its workers said about the GIL, and what the result may be called."""
    python, seen = result.get("python") or {}, result.get("gil") or {}
    workers = (seen.get("workers") or {}).get("after") or (seen.get("workers") or {}).get("before") or {}
    each = ", ".join(f"{pid}: {'on' if on else 'off' if on is False else '?'}" for pid, on in workers.items())
    line = f"Python {python.get('version') or '?'} ({python.get('label') or '?'}), GIL per worker: {each or '?'}"
    line += f"; {seen.get('label', freethreaded.UNKNOWN)}"
    return line + (f": REFUSED, {seen['refused']}" if seen.get("refused") else "")


def table(result: dict) -> str:
    s, measured = result["scenario"], result.get("measured") or {}
    lines = [f"freethreaded, SERVER_MODE={result['environment']['server_mode']}: {gil_line(result)}"]
    for part, where in (("cpu", f"c={s['concurrency']}"), ("single", "c=1")):
        if part in measured:
            seen = measured[part]
            lines.append(
                f"  /api/cpu ms={s['ms']} {where}: {_summary(seen['rps'], ' req/s')}, backend "
                f"{_summary(seen['cores_busy'], ' cores', 2)}, {_summary(seen['cpu_ms_per_request'], ' ms CPU/req')}"
                f", {seen['errors']} errors of {seen['requests']}"
            )
    memory = result.get("memory") or {}
    if memory:
        where = (memory.get("where") or {}).get("interpreter", "?")
        lines.append(
            f"  memory ({where}'s interpreter): {_kib(memory.get('threads'))} a thread, "
            f"{_kib(memory.get('tasks_event'))} a task"
        )
    for cell in result.get("cells") or []:
        if cell.get("part") == "aggregation":
            figures = cell["figures"]
            lines.append(
                f"  {cell['strategy']}/{cell['client']} c={cell['concurrency']}: {figures['rps']:.1f} ok/s "
                f"± {_percent((cell.get('spread') or {}).get('rps'))}, p50 {format_duration(figures.get('p50'))}"
            )
    return "\n".join(lines)


# --- the side-by-side page -----------------------------------------------------------------


def results_of(latest: dict) -> list[dict]:
    """Every freethreaded result (one per interpreter, mode and thread count)."""
    return [result for result in latest.values() if result.get("experiment") == "freethreaded"]


def label_of(result: dict) -> str:
    return (result.get("python") or {}).get("label") or "?"


def free_threaded(result: dict) -> bool:
    return bool((result.get("gil") or {}).get("free_threaded"))


def by_threads(found: list[dict], python: str) -> dict[int, dict]:
    """{threads: result} of `python`'s cpu part (one worker, concurrency = its threads)."""
    out = {}
    for result in found:
        s = result["scenario"]
        if label_of(result) == python and "cpu" in (result.get("measured") or {}) and s.get("workers") == 1:
            out[s["concurrency"]] = result
    return dict(sorted(out.items()))


def scaling(results: dict[int, dict], threads: int = 2) -> dict | None:
    """Throughput with `threads` threads over one thread, the ratio with its range."""
    if 1 not in results or threads not in results:
        return None
    return freethreaded.ratio(results[threads]["measured"]["cpu"]["rps"], results[1]["measured"]["cpu"]["rps"])


def single(found: list[dict], python: str) -> dict | None:
    """`python`'s single-thread CPU ms per request: from its run with the fewest threads."""
    runs = [r for r in found if label_of(r) == python and "single" in (r.get("measured") or {})]
    runs.sort(key=lambda r: r["scenario"].get("threads") or 0)
    return runs[0] if runs else None


def _enough(seen: dict | None) -> bool:
    return bool(seen) and seen.get("median") is not None and min(seen["counts"]) >= MIN_RUNS


def multicore_verdict(gil_scaling: dict | None, free_scaling: dict | None, free_ok: bool | None) -> tuple[str, str]:
    """Claim 1 from the 2-thread / 1-thread throughput ratio of one process on each
    interpreter (free_ok: whether every 3.14t result it rests on was free-threaded).
    (verdict, what it rests on)."""
    parts, verdicts = [], []
    if _enough(gil_scaling):
        holds = gil_scaling["high"] < HOLDS_BELOW
        verdicts.append("holds with the GIL" if holds else "not even with the GIL")
        parts.append(f"3.14: {_ratio(gil_scaling)}, {'under' if holds else 'not under'} {HOLDS_BELOW:g}x")
    if free_ok is False:
        verdicts.append("not judged without the GIL: the 3.14t run had the GIL back (refused)")
    elif _enough(free_scaling):
        if free_scaling["low"] >= USES_TWO_FROM:
            verdicts.append("fails without it: one process used more than one core")
            parts.append(f"3.14t: {_ratio(free_scaling)}, at least {USES_TWO_FROM:g}x in every pairing")
        elif free_scaling["high"] < HOLDS_BELOW:
            verdicts.append("holds without it too")
            parts.append(f"3.14t: {_ratio(free_scaling)}, under {HOLDS_BELOW:g}x")
        else:
            verdicts.append("undecided without it")
            parts.append(f"3.14t: {_ratio(free_scaling)}, between the rule's bounds")
    if not verdicts:
        return "not measured", f"needs 1 and 2 threads with at least {MIN_RUNS} runs each"
    return "; ".join(verdicts), "; ".join(parts)


def slower_verdict(cost: dict | None, free_ok: bool | None) -> tuple[str, str]:
    """Claim 2 from the single-thread CPU per request of 3.14t over 3.14 (experiment.ratio)."""
    if free_ok is False:
        return "refused", "the 3.14t run had the GIL back: not a free-threaded measurement"
    if not _enough(cost):
        return "not measured", f"needs the single part on both interpreters, {MIN_RUNS} runs each at least"
    shown = f"3.14t / 3.14 CPU per request: {_ratio(cost)}"
    if cost["low"] >= ORDER_OF_MAGNITUDE:
        return "holds", f"{shown}, {ORDER_OF_MAGNITUDE:g}x or more in every pairing"
    if cost["high"] < ORDER_OF_MAGNITUDE:
        return "fails", f"{shown}, under {ORDER_OF_MAGNITUDE:g}x in every pairing"
    return "undecided", f"{shown}: the runs straddle {ORDER_OF_MAGNITUDE:g}x"


def _free_ok(results: list[dict]) -> bool | None:
    """False if any 3.14t result was refused the free-threaded label; None if there is none."""
    return None if not results else all(free_threaded(r) for r in results)


def section(latest: dict, folder) -> Section:
    found = results_of(latest)
    if not found:
        return Section([])
    pythons = sorted({label_of(r) for r in found})
    lines = [
        "## Free-threaded Python: threads without the GIL",
        "",
        "The same lab on CPython 3.14 built twice from one source, with the GIL (3.14) and without it "
        "(3.14t) (`make freethreaded`; docs/freethreaded.md). A 3.14t result counts as free-threaded only if "
        "every backend worker said the GIL was off before and after it; otherwise it is shown, marked, and "
        "left out of the verdicts.",
        "",
        *[f"- {gil_line(r)} ({r['environment']['server_mode']}, {r['_file']})" for r in found if "_file" in r],
        "",
    ]
    cpu_rows, ratios = [], {}
    for python in pythons:
        results = by_threads(found, python)
        ratios[python] = (scaling(results, 2), scaling(results, 4))
        for threads, result in results.items():
            seen = result["measured"]["cpu"]
            cpu_rows.append(
                [
                    python + ("" if free_threaded(result) or not python.endswith("t") else " (GIL ON)"),
                    threads,
                    _summary(seen["rps"], " req/s"),
                    _summary(seen["cores_busy"], "", 2),
                    _summary(seen["cpu_ms_per_request"], " ms", 2),
                    f"{seen['errors']} of {seen['requests']}",
                ]
            )
    if cpu_rows:
        ms = found[0]["scenario"]["ms"]
        lines += [
            "### CPU-bound threads in one process",
            "",
            f"`/api/cpu/?ms={ms}` on one wsgi worker with 1, 2 and 4 threads, as many requests at once as "
            "threads: median ± (max - min) / median over the runs (n).",
            "",
            *markdown.table(
                ["interpreter", "threads", "throughput", "backend cores busy", "CPU / request", "errors"], cpu_rows
            ),
            "",
            *markdown.table(
                ["interpreter", "2 threads / 1 thread", "4 threads / 1 thread"],
                [[python, _ratio(two), _ratio(four)] for python, (two, four) in ratios.items()],
            ),
            "",
            "Ratios: the median over the median, with the range from the runs' extremes.",
            "",
        ]
    free_side = next((p for p in pythons if p.endswith("t")), None)
    # The free-threaded build's twin from the same source (3.14 for 3.14t), not just any
    # GIL result in the folder (a `loadgen freethreaded` run on the default image's 3.11).
    twin = free_side[:-1] if free_side else None
    gil_side = twin if twin in pythons else next((p for p in pythons if not p.endswith("t")), None)
    free_results = [r for r in found if label_of(r) == free_side]
    free_ok = _free_ok(free_results)
    single_gil, single_free = single(found, gil_side or ""), single(found, free_side or "")
    cost = None
    if single_gil and single_free:
        cost = freethreaded.ratio(
            single_free["measured"]["single"]["cpu_ms_per_request"],
            single_gil["measured"]["single"]["cpu_ms_per_request"],
        )
        lines += [
            "### One thread alone",
            "",
            *markdown.table(
                ["", f"{gil_side}", f"{free_side}", f"{free_side} / {gil_side}"],
                [
                    [
                        "backend CPU per /api/cpu request at c=1",
                        _summary(single_gil["measured"]["single"]["cpu_ms_per_request"], " ms", 2),
                        _summary(single_free["measured"]["single"]["cpu_ms_per_request"], " ms", 2),
                        _ratio(cost),
                    ]
                ],
            ),
            "",
        ]
    memory_rows = [
        [
            label_of(r),
            (r["memory"].get("where") or {}).get("interpreter", "?")
            + f" (Python {(r['memory'].get('where') or {}).get('python', '?')})",
            _kib(r["memory"].get("threads")),
            _kib(r["memory"].get("tasks_event")),
        ]
        for r in found
        if r.get("memory")
    ]
    if memory_rows:
        lines += [
            "### Memory per parked thread and task",
            "",
            "Resident memory each, in a fresh child interpreter. The interpreter column says whose: loadgen's "
            "own is the default image's whatever PYTHON the services ran, so it tells nothing of 3.14t.",
            "",
            *markdown.table(["stack's interpreter", "measured in", "per thread", "per task"], memory_rows),
            "",
        ]
    aggregation_rows = []
    for r in sorted(found, key=lambda r: (label_of(r), mode_order(r["environment"]["server_mode"]))):
        for cell in r.get("cells") or []:
            if cell.get("part") == "aggregation":
                figures = cell["figures"]
                aggregation_rows.append(
                    [
                        label_of(r) + ("" if free_threaded(r) or not label_of(r).endswith("t") else " (GIL ON)"),
                        r["environment"]["server_mode"],
                        f"{cell['strategy']}/{cell['client']}",
                        cell["concurrency"],
                        f"{figures['rps']:.1f} ± {_percent((cell.get('spread') or {}).get('rps'))} "
                        f"(n={len(cell.get('repeats') or [figures])})",
                        format_duration(figures.get("p50")),
                        figures.get("errors", 0),
                    ]
                )
    if aggregation_rows:
        lines += [
            "### The article's aggregations under load, threads against async",
            "",
            *markdown.table(["interpreter", "mode", "strategy/client", "c", "ok/s", "p50", "errors"], aggregation_rows),
            "",
        ]
    gil_scaling = ratios.get(gil_side, (None, None))[0] if gil_side else None
    free_scaling = ratios.get(free_side, (None, None))[0] if free_side else None
    multicore, multicore_why = multicore_verdict(gil_scaling, free_scaling, free_ok)
    slower, slower_why = slower_verdict(cost, free_ok)
    lines += [
        "### The article's Part III",
        "",
        f"- *{MULTICORE_CLAIM}*: **{multicore}** ({multicore_why}). Rule: with the GIL it holds when 2 threads "
        f"give under {HOLDS_BELOW:g}x one thread's throughput in every pairing of runs; without it, it fails when "
        f"they give at least {USES_TWO_FROM:g}x in every pairing.",
        f"- *{SLOWER_CLAIM}*: **{slower}** ({slower_why}). Rule: it holds when 3.14t spends at least "
        f"{ORDER_OF_MAGNITUDE:g}x 3.14's CPU per request in every pairing of runs, fails when under it in every "
        "pairing.",
        "",
    ]
    return Section(lines)
