"""The soak experiment's terminal table and report section (loadgen/experiments/soak.py measures)."""

from __future__ import annotations

from .. import display, markdown
from ..results import modes
from . import Section


def table(result: dict) -> str:
    f, s = result["figures"], result["scenario"]
    lines = [
        f"soak, SERVER_MODE={result['environment']['server_mode']}: {s['strategy']} at {s['rate']:g}/s for "
        f"{s['duration']:g} s after {s['warmup']:g} s warm-up: {f['requests']} requests, {display.errors(f)} errors, "
        f"{f['partial']} partial, p50 {display.latency(f, 'p50')}, p99 {display.latency(f, 'p99')}"
    ]
    for name, seen in result["memory"].items():
        if seen:
            lines.append(
                f"  {name}: RSS {seen['rss_after_warmup'] / 2**20:.1f} -> {seen['rss_end'] / 2**20:.1f} MiB "
                f"({seen['growth']:+.1%}), threads {seen['threads_after_warmup']} -> {seen['threads_end']}"
            )
    return "\n".join(lines)


def section(latest: dict, folder) -> Section:
    found = modes(latest, "soak")
    if not found:
        return Section([])
    rows = []
    for mode in found:
        result = latest[("soak", mode)]
        f, s = result["figures"], result["scenario"]

        def grew(name, result=result):
            seen = result["memory"].get(name)
            return "-" if not seen or seen["growth"] is None else f"{seen['growth']:+.1%}"

        rows.append(
            [
                mode,
                f"{s['strategy']} at {s['rate']:g}/s for {s['duration']:g} s",
                f["requests"],
                display.errors(f),
                display.latency(f, "p50"),
                display.latency(f, "p99"),
                grew("gateway"),
                grew("backend"),
            ]
        )
    header = ("mode", "load", "requests", "errors", "p50", "p99", "gateway RSS growth", "backend RSS growth")
    return Section(
        [
            "## Soak",
            "",
            *markdown.table(header, rows),
            "",
            "RSS growth compares each service's memory after the warm-up with the end of the run.",
            "",
        ]
    )
