"""`sweep`: a closed-loop concurrency sweep over the strategies, with its plots."""

from __future__ import annotations

from asynclab.api import ARTICLE_STRATEGIES

from .. import markdown, plots
from ..lab import Lab, aggregation_url, flags, measure
from ..options import aggregation, arguments, client, levels, strategies, target, window
from ..probe import environment
from ..results import modes
from ..runner import Plan
from ..units import format_duration

HELP = "closed-loop concurrency sweep over the strategies"


def options(parser) -> None:
    levels(parser, (1, 10, 50, 100, 200))
    strategies(parser, ARTICLE_STRATEGIES)
    target(parser, "sync")
    aggregation(parser, fanout=10, delay=0.1)
    window(parser, 10.0, 3.0)
    client(
        parser, "article", help="the gateway's HTTP client (the article's, so the sweep measures the article's code)"
    )


async def command(args, lab: Lab) -> dict:
    return await run(lab, **arguments(args, run))


async def run(
    lab: Lab,
    levels=(1, 10, 50, 100, 200),
    strategies=ARTICLE_STRATEGIES,
    target: str = "sync",
    n: int = 10,
    delay: float = 0.1,
    duration: float = 10.0,
    warmup: float = 3.0,
    client: str = "article",
) -> dict:
    env = await environment(lab.gateway, lab.backend)
    cells = []
    for strategy in strategies:
        url = aggregation_url(lab, strategy, target, n, delay, client=client)
        for concurrency in levels:
            plan = Plan(urls=(url,), concurrency=concurrency, duration=duration, warmup=warmup, timeout=lab.timeout)
            figures = await measure(lab, plan, f"sweep {strategy} c={concurrency}")
            cells.append({"strategy": strategy, "concurrency": concurrency, "url": url, "figures": figures})
    return {
        "experiment": "sweep",
        "environment": env,
        "scenario": {
            "levels": list(levels),
            "strategies": list(strategies),
            "target": target,
            "n": n,
            "delay": delay,
            "duration": duration,
            "warmup": warmup,
            "client": client,
        },
        "cells": cells,
    }


def table(result: dict) -> str:
    lines = [
        f"sweep, SERVER_MODE={result['environment']['server_mode']} (n={result['scenario']['n']}, "
        f"delay={result['scenario']['delay']:g} s, target={result['scenario']['target']}, "
        f"{result['scenario']['duration']:g} s per cell)",
        f"{'strategy':<11} {'c':>4} {'req/s':>8} {'p50':>9} {'p99':>9} {'errors':>6} {'partial':>7}  notes",
    ]
    for cell in result["cells"]:
        f = cell["figures"]
        lines.append(
            f"{cell['strategy']:<11} {cell['concurrency']:>4} {f['rps']:>8.1f} {format_duration(f['p50']):>9} "
            f"{format_duration(f['p99']):>9} {f['errors']:>6} {f['partial']:>7}  {', '.join(flags(f)) or 'ok'}"
        )
    return "\n".join(lines)


def _service(figures: dict, name: str) -> str:
    seen = (figures.get("services") or {}).get(name)
    return "-" if not seen else f"{seen['threads_peak']} / {seen['rss_peak_bytes'] / 2**20:.0f} MiB"


HEADER = (
    "strategy",
    "concurrency",
    "req/s",
    "p50",
    "p90",
    "p99",
    "max",
    "errors",
    "partial",
    "gateway threads / RSS",
    "backend threads / RSS",
    "notes",
)


def section(latest: dict, folder) -> list[str]:
    found = modes(latest, "sweep")
    if not found:
        return []
    s = latest[("sweep", found[0])]["scenario"]
    lines = [
        "## Concurrency sweep",
        "",
        f"Closed loop, each cell {s['duration']:g} s after {s['warmup']:g} s of warm-up; n = {s['n']} calls "
        f"of {s['delay']:g} s to the backend's {s['target']} view per aggregation. Throughput is "
        "aggregations per second; latency is per aggregation, as the client saw it.",
        "",
    ]
    for plot in plots.sweep(latest, found, folder):
        lines += [f"![{plot.stem}]({plot.name})", ""]
    for mode in found:
        rows = []
        for cell in latest[("sweep", mode)]["cells"]:
            f = cell["figures"]
            rows.append(
                [
                    cell["strategy"],
                    cell["concurrency"],
                    f"{f['rps']:.1f}",
                    *(format_duration(f[k]) for k in ("p50", "p90", "p99", "max")),
                    f["errors"],
                    f["partial"],
                    _service(f, "gateway"),
                    _service(f, "backend"),
                    "; ".join(flags(f)),
                ]
            )
        lines += [f"### {mode}", "", *markdown.table(HEADER, rows), ""]
    lines += [
        "Threads and RSS are each service's peaks during the cell, summed over its processes (from "
        "its `/telemetry`, polled every 0.5 s). Cells flagged *Little's law off* had a window too short "
        "for their latency (concurrency should equal throughput x mean latency in a closed loop): read "
        "them as lower bounds on latency and rough throughput.",
        "",
    ]
    return lines
