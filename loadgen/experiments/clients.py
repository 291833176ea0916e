"""`clients`: every HTTP client the gateway offers, under the same load."""

from __future__ import annotations

from asynclab.api import CLIENTS

from .. import bounds
from ..lab import Lab, aggregation_url, closed_loop, measure
from ..options import aggregation, arguments, levels, strategies, window
from ..probe import environment

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
