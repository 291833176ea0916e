"""The sweep experiment's terminal table and report section (loadgen/experiments/sweep.py measures).

Over 250 lines: the sweep has the report's largest table (spread, bounds, CPU and headroom
per cell) and its notes."""

from __future__ import annotations

from .. import bounds, display, markdown, plots, variance
from ..experiments.sweep import SPREAD_OF, spread
from ..lab import flags
from ..results import modes
from . import Section
from .pairs import client_of, naive_tuned

# A cell whose repeats' throughputs differ by more than this (of their median) is flagged.
SPREAD_FLAG = 0.10


# What a cell that is not congested should stay within over 3 repeats.
SPREAD_TARGET = 0.05


def repeats_of(cell: dict) -> list[dict]:
    """A cell's runs; a result from before --repeat has its one run only."""
    return cell.get("repeats") or [cell["figures"]]


def spread_of(cell: dict) -> dict:
    return cell.get("spread") or spread(repeats_of(cell))


def congested(bound: dict | None) -> bool:
    """Past what some part could serve: requests queue, so latency and throughput swing
    with every small change in that part's speed. A cell at its ideal is not congested."""
    return bool(bound) and bound["bound_by"] != "the delay"


def notes(cell: dict) -> list[str]:
    """Why a cell's figures should not be taken as they stand: loadgen's flags and a wide
    spread, with its reason when the cell was congested."""
    wide = spread_of(cell)["rps"]
    if not wide or wide <= SPREAD_FLAG:
        return flags(cell["figures"])
    spread_note = f"spread {wide:.0%}".replace("%", " %")
    bound = cell.get("bound")
    if congested(bound):
        spread_note += f" (congested: {bounds.label(bound)})"
    return flags(cell["figures"]) + [spread_note]


def spread_target(cells: list[dict]) -> str | None:
    """How the cells that were not congested met the spread target, in one sentence."""
    calm = [c for c in cells if len(repeats_of(c)) > 1 and not congested(c.get("bound"))]
    if not calm:
        return None
    worst = max(spread_of(c)["rps"] or 0.0 for c in calm)
    within = sum((spread_of(c)["rps"] or 0.0) <= SPREAD_TARGET for c in calm)
    return (
        f"{within} of {len(calm)} cells that were not congested kept their throughput spread within "
        f"{_percent(SPREAD_TARGET)} (the widest {_percent(worst)})."
    )


def closed(result: dict) -> list[dict]:
    """The closed-loop cells (concurrency levels): throughput, and latency with the loop's queueing in it."""
    return [cell for cell in result["cells"] if not cell.get("rate")]


def opened(result: dict) -> list[dict]:
    """The open-loop cells (rates): latency at a stated load, coordinated omission corrected."""
    return [cell for cell in result["cells"] if cell.get("rate")]


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}".replace("%", " %")


def spread_text(cell: dict) -> str:
    """req/s / p50 / p99 spreads of a repeated cell, '-' for a single run."""
    if len(repeats_of(cell)) < 2:
        return "-"
    s = spread_of(cell)
    return " / ".join(_percent(s[key]) for key in SPREAD_OF)


def table(result: dict) -> str:
    s = result["scenario"]
    lines = [
        f"sweep, SERVER_MODE={result['environment']['server_mode']} (n={s['n']}, "
        f"delay={s['delay']:g} s, target={s['target']}, {s['duration']:g} s per cell, "
        + (f"median of {s['repeat']} interleaved runs)" if s.get("repeat", 1) > 1 else "one run per cell)"),
    ]
    if closed(result):
        lines += [
            "closed loop (latency with the loop's own queueing in it):",
            f"{'strategy':<11} {'client':<8} {'c':>4} {'n':>6} {'ok/s':>8} {'spread rps/p50/p99':>20} {'p50':>9} "
            f"{'p99':>20}  {'errors':<14} {'partial':>7}  {'bound by':<16} {'ideal':>5} {'gw/be CPU':>9}  notes",
        ]
        for cell in closed(result):
            f, bound = cell["figures"], bounds.of(cell, result)
            lines.append(
                f"{cell['strategy']:<11} {client_of(cell, result):<8} {cell['concurrency']:>4} "
                f"{f['requests']:>6} {f['rps']:>8.1f} {spread_text(cell):>20} {display.latency(f, 'p50'):>9} "
                f"{display.latency(f, 'p99'):>20}  {display.errors(f):<14} {f['partial']:>7}  "
                f"{bounds.label(bound):<16} {_percent(bound.get('of_ideal')):>5} "
                f"{cpu_text(bound, short=True):>9}  {', '.join(notes(cell)) or 'ok'}"
            )
    if opened(result):
        lines += [
            "open loop (latency from each request's intended send, at the rate stated):",
            f"{'strategy':<11} {'client':<8} {'rate':>6} {'n':>6} {'ok/s':>8} {'p50':>9} {'p90':>9} {'p99':>20}  "
            f"{'errors':<14}  {'bound by':<16}  notes",
        ]
        for cell in opened(result):
            f, bound = cell["figures"], bounds.of(cell, result)
            lines.append(
                f"{cell['strategy']:<11} {client_of(cell, result):<8} {cell['rate']:>6g} {f['requests']:>6} "
                f"{f['rps']:>8.1f} {display.latency(f, 'p50'):>9} {display.latency(f, 'p90'):>9} "
                f"{display.latency(f, 'p99'):>20}  {display.errors(f):<14}  {bounds.label(bound):<16}  "
                f"{', '.join(notes(cell)) or 'ok'}"
            )
    return "\n".join(lines)


def cpu_text(bound: dict, short: bool = False) -> str:
    """Gateway and backend CPU per aggregation and their ratio: '6.1 / 18.3 ms (0.33x)'."""
    split = bound.get("cpu_split")
    if not split:
        return "-"
    ratio = split["gateway_over_backend"]
    ratio_text = "-" if ratio is None else f"{ratio:.2f}x"
    return ratio_text if short else f"{split['gateway_ms']:.1f} / {split['backend_ms']:.1f} ms ({ratio_text})"


def _service(figures: dict, name: str) -> str:
    seen = (figures.get("services") or {}).get(name)
    return "-" if not seen else f"{seen['threads_peak']} / {seen['rss_peak_bytes'] / 2**20:.0f} MiB"


HEADER = (
    "strategy",
    "client",
    "concurrency",
    "requests",
    "req/s",
    "spread req/s / p50 / p99",
    "p50",
    "p90",
    "p99",
    "max",
    "errors",
    "partial",
    "bound by",
    "why",
    "of ideal",
    "headroom gateway / backend",
    "CPU per aggregation: gateway / backend",
    "gateway threads / RSS",
    "backend threads / RSS",
    "notes",
)


OPEN_HEADER = (
    "strategy",
    "client",
    "rate",
    "requests",
    "req/s",
    "p50",
    "p90",
    "p99",
    "max",
    "errors",
    "partial",
    "bound by",
    "why",
    "headroom gateway / backend",
    "notes",
)


def headroom_text(bound: dict) -> str:
    """What is left of each service's fullest budget (CPU, threads, calls) over the window."""
    room = bound.get("headroom") or {}
    return " / ".join(_percent(room.get(name)) for name in ("gateway", "backend"))


def open_rows(result: dict) -> list[list]:
    rows = []
    for cell in opened(result):
        f, bound = cell["figures"], bounds.of(cell, result)
        rows.append(
            [
                cell["strategy"],
                client_of(cell, result),
                f"{cell['rate']:g}/s",
                display.requests(f),
                f"{f['rps']:.1f}",
                *(display.latency(f, k) for k in ("p50", "p90", "p99", "max")),
                display.errors(f),
                f["partial"],
                bounds.label(bound),
                bound["reason"],
                headroom_text(bound),
                "; ".join(notes(cell)),
            ]
        )
    return rows


def section(latest: dict, folder) -> Section:
    found = modes(latest, "sweep")
    if not found:
        return Section([])
    s = latest[("sweep", found[0])]["scenario"]
    repeat = s.get("repeat", 1)
    lines = [
        "## Concurrency sweep",
        "",
        f"Closed loop, each cell {s['duration']:g} s after {s['warmup']:g} s of warm-up; n = {s['n']} calls "
        f"of {s['delay']:g} s to the backend's {s['target']} view per aggregation. Throughput is "
        "aggregations per second answered 2xx; latency is per aggregation, as the client saw it, and in a "
        "closed loop it holds the queueing the loop itself causes (*closed-loop latency*: read the open-loop "
        "table below for latency at a stated load). "
        + (
            f"Every cell ran {repeat} times, interleaved (every cell once, then again): each row is the run "
            "with the median throughput, error bars span the lowest to the highest run."
            if repeat > 1
            else "One run per cell: no spread."
        ),
        "",
    ]
    drawn = plots.sweep(latest, found, folder)
    for plot in drawn:
        lines += [plot.markdown, ""]
    for mode in found:
        result = latest[("sweep", mode)]
        rows = []
        for cell in closed(result):
            f, bound = cell["figures"], bounds.of(cell, result)
            rows.append(
                [
                    cell["strategy"],
                    client_of(cell, result),
                    cell["concurrency"],
                    display.requests(f),
                    f"{f['rps']:.1f}",
                    spread_text(cell),
                    *(display.latency(f, k) for k in ("p50", "p90", "p99", "max")),
                    display.errors(f),
                    f["partial"],
                    bounds.label(bound),
                    bound["reason"],
                    _percent(bound.get("of_ideal")),
                    headroom_text(bound),
                    cpu_text(bound),
                    _service(f, "gateway"),
                    _service(f, "backend"),
                    "; ".join(notes(cell)),
                ]
            )
        lines += [f"### {mode}", ""]
        if rows:
            lines += ["Closed loop (throughput; closed-loop latency):", "", *markdown.table(HEADER, rows), ""]
        if opened(result):
            lines += [
                "Open loop at a stated rate (latency from each request's intended send, coordinated omission "
                "corrected; each window long enough for its p99):",
                "",
                *markdown.table(OPEN_HEADER, open_rows(result)),
                "",
            ]
        target_line = spread_target(closed(result))
        lines += [target_line, ""] if target_line else []
        lines += variance.section(result, mode)
    lines += naive_tuned(latest, found)
    lines += [
        "*requests* is the count behind each row (the median run's; with the successes when some failed); "
        "a percentile needs 1 / (1 - q) samples (p99: 100), and below that the table gives the maximum "
        "with its count. A value marked *≥* may be a timed-out request's, known only to be at least that. "
        "*errors* are every answer that was not 2xx, by status, and every transport failure, by kind: "
        "none of them counts as throughput. "
        f"*spread* is (highest - lowest) / median over a cell's runs, of throughput, p50 and p99; a cell "
        f"whose throughput spread is over {_percent(SPREAD_FLAG)} says so in its notes. *bound by* is what "
        "limited the cell (loadgen/bounds.py, first rule that holds): *neighbours* (the host busier than "
        "the lab's own CPU, its containers' whole, by 10 % of its cores: measured again, and marked if it "
        "stayed so); loadgen's own CPU or event loop; *gateway/backend unresponsive* (it answered no "
        "telemetry poll around an end of the window: its CPU unknown); *the delay* "
        "(throughput at least 80 % of the ideal, concurrency / the latency floor: one delay for the "
        "concurrent strategies, n delays for sequential), or *the offered rate* for an open loop that "
        "carried it; a wsgi thread pool at 80 % of what it allows "
        "(P threads: P / (n x delay) aggregations a second in the backend, P / floor in the gateway); a "
        "service's CPU at 85 % of the cores it may use (min(workers, its cores)), or the machine's cores "
        "85 % busy; a wsgi thread pool 95 % busy at its peak (the backend's first: the gateway's threads "
        "wait on it); an event loop lagging 50 ms in the median poll. "
        "A verdict with *?* met no rule: it is the limit the cell came nearest; *why* gives the figure "
        "behind it. *of ideal* is throughput over the ideal; *headroom* is what each service had left of "
        "its fullest budget over the window (CPU of its cores, request threads of its pool, backend calls "
        "of the gateway's budget). *CPU per aggregation* is each service's CPU seconds over the "
        "aggregations served, and their ratio: what the gateway's fan-out and its client cost beside the "
        "backend work they ask for. Every per-window figure (CPU, requests served, busy shares) is over "
        "the measurement window itself: the services' counters are read at its two ends.",
        "",
        "Threads and RSS are each service's peaks during the window, summed over its processes (from "
        "its `/telemetry`, polled every 0.25 s). Cells flagged *Little's law off* had a window too short "
        "for their latency (concurrency should equal throughput x mean latency in a closed loop): read "
        "them as lower bounds on latency and rough throughput.",
        "",
    ]
    return Section(lines, drawn)
