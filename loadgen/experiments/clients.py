"""`clients`: every HTTP client the gateway offers, under the same load."""

from __future__ import annotations

from asynclab.api import CLIENTS

from .. import bounds, display, markdown
from ..lab import Lab, aggregation_url, closed_loop, measure
from ..options import aggregation, arguments, levels, strategies, window
from ..probe import environment
from ..results import modes

HELP = "every HTTP client choice under the same load"

# aiohttp has no sync API, so the strategies that fan out from sync code cannot use it.
SYNC_CLIENTS = tuple(name for name in CLIENTS if name != "aiohttp")
CLIENT_CHOICES = {"gather": CLIENTS, "async-to-sync": CLIENTS, "threadpool": SYNC_CLIENTS, "sequential": SYNC_CLIENTS}


def options(parser) -> None:
    levels(parser, (10, 50))
    strategies(parser, ("gather", "threadpool"))
    aggregation(parser, fanout=10, delay=0.1)
    window(parser, 8.0, 2.0)


async def command(args, lab: Lab) -> dict:
    return await run(lab, **arguments(args, run))


async def run(
    lab: Lab,
    levels=(10, 50),
    strategies=("gather", "threadpool"),
    n: int = 10,
    delay: float = 0.1,
    duration: float = 8.0,
    warmup: float = 2.0,
    workers: int = 1,
) -> dict:
    env = await environment(lab)
    cells = []
    for strategy in strategies:
        for client in CLIENT_CHOICES[strategy]:
            url = aggregation_url(lab, strategy, "async", n, delay, client=client)
            for concurrency in levels:
                plan = closed_loop(lab, url, concurrency, duration, warmup, workers)
                figures = await measure(lab, plan, f"clients {strategy}/{client} c={concurrency}", allow_errors=True)
                cells.append(
                    {"strategy": strategy, "client": client, "concurrency": concurrency, "url": url, "figures": figures}
                )
    result = {
        "experiment": "clients",
        "environment": env,
        "scenario": {
            "levels": list(levels),
            "strategies": list(strategies),
            "n": n,
            "delay": delay,
            "duration": duration,
            "warmup": warmup,
            "target": "async",
        },
        "cells": cells,
    }
    for cell in cells:
        cell["bound"] = bounds.of(cell, result)
    return result


def _gateway_cpu(figures: dict) -> float | None:
    return ((figures.get("services") or {}).get("gateway") or {}).get("cpu_ms_per_request")


def table(result: dict) -> str:
    s = result["scenario"]
    lines = [
        f"clients, SERVER_MODE={result['environment']['server_mode']} (n={s['n']} calls of {s['delay']:g} s "
        f"to the async view, {s['duration']:g} s per cell)",
        f"{'strategy':<11} {'client':<8} {'c':>4} {'req/s':>7} {'p50':>9} {'p99':>9} {'errors':>6} {'partial':>7} "
        f"{'gw CPU/agg':>10}  bound by",
    ]
    for cell in result["cells"]:
        f = cell["figures"]
        cpu = _gateway_cpu(f)
        lines.append(
            f"{cell['strategy']:<11} {cell['client']:<8} {cell['concurrency']:>4} {f['rps']:>7.1f} "
            f"{display.latency(f, 'p50'):>9} {display.latency(f, 'p99'):>20} {display.errors(f):>14} {f['partial']:>7} "
            + (f"{cpu:>7.1f} ms" if cpu is not None else f"{'-':>10}")
            + f"  {bounds.label(bounds.of(cell, result))}"
        )
    return "\n".join(lines)


def section(latest: dict, folder) -> list[str]:
    found = modes(latest, "clients")
    if not found:
        return []
    s = latest[("clients", found[0])]["scenario"]
    rows = []
    for mode in found:
        result = latest[("clients", mode)]
        for cell in result["cells"]:
            f, cpu = cell["figures"], _gateway_cpu(cell["figures"])
            rows.append(
                [
                    mode,
                    cell["strategy"],
                    cell["client"],
                    cell["concurrency"],
                    f"{f['rps']:.1f}",
                    display.latency(f, "p50"),
                    display.latency(f, "p99"),
                    display.errors(f),
                    f["partial"],
                    f"{cpu:.1f} ms" if cpu is not None else "-",
                    bounds.label(bounds.of(cell, result)),
                ]
            )
    header = (
        "mode",
        "strategy",
        "client",
        "concurrency",
        "req/s",
        "p50",
        "p99",
        "errors",
        "partial",
        "gateway CPU",
        "bound by",
    )
    return [
        "## HTTP clients",
        "",
        f"Closed loop, n = {s['n']} calls of {s['delay']:g} s to the backend's async view, {s['duration']:g} s "
        "per cell. *gateway CPU* is per aggregation, from its `/telemetry`; *bound by* as in the sweep.",
        "",
        *markdown.table(header, rows),
        "",
    ]
