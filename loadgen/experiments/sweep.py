"""`sweep`: a closed-loop concurrency sweep over the strategies and clients, each cell run
`--repeat` times, interleaved, with what bounded it and its plots.

Over 300 lines because it is the lab's main table: the interleaved repeats, the terminal
table and the report's two tables (per mode, and naive against tuned) belong together."""

from __future__ import annotations

import statistics
import sys

from asynclab.api import ARTICLE_STRATEGIES, CLIENT_CHOICES

from .. import bounds
from ..lab import Lab, aggregation_url, closed_loop, measure, open_loop
from ..options import (
    aggregation,
    arguments,
    choices,
    clients,
    levels,
    option,
    positive,
    rates,
    strategies,
    target,
    window,
)
from ..probe import environment
from .clients import CLIENT_CHOICES as CLIENTS_OF

HELP = "closed-loop concurrency sweep over the strategies and clients, and their latency at stated rates"

SPREAD_OF = ("rps", "p50", "p99")
# The article's client: what the sweep compares every other ("tuned") client with.
NAIVE = "article"


def options(parser) -> None:
    levels(parser, (1, 10, 50, 100, 200))
    strategies(parser, ARTICLE_STRATEGIES)
    target(parser, "sync")
    aggregation(parser, fanout=10, delay=0.1)
    window(parser, 10.0, 3.0)
    clients(
        parser,
        (NAIVE,),
        help="the gateway's HTTP clients, every strategy with each (article: the article's code; auto: the lab's best)",
    )
    option(
        parser,
        "--repeat",
        env="LOADGEN_REPEAT",
        default=1,
        type=positive(int, 20),
        help="runs of every cell, interleaved (A B C A B C) so drift hits every cell alike; the median is shown",
    )
    rates(
        parser,
        help="open-loop cells at these rates (aggregations/s): latency at a stated load, each window "
        "long enough for a p99 (100 / rate s at least)",
    )
    option(
        parser,
        "--rate-clients",
        env="LOADGEN_RATE_CLIENTS",
        default=None,
        type=choices(CLIENT_CHOICES),
        help="the clients of the open-loop cells (default: --clients)",
    )


async def command(args, lab: Lab) -> dict:
    return await run(lab, **arguments(args, run))


def supports(strategy: str, client: str) -> bool:
    """aiohttp has no sync API: the strategies that fan out from sync code cannot use it."""
    return client == "auto" or client in CLIENTS_OF[strategy]


def median_repeat(repeats: list[dict], by: str = "rps") -> dict:
    """The repeat with the median throughput (an open loop's: the median p50), the lower
    middle one of an even count: one real run's figures, so its latency and telemetry
    belong together."""
    ranked = sorted(repeats, key=lambda f: f.get(by) or 0.0)
    return ranked[(len(ranked) - 1) // 2]


# An open-loop cell's window holds at least this many requests, so its p99 means something.
OPEN_SAMPLES = 100


def spread(repeats: list[dict]) -> dict:
    """(max - min) / median of each headline figure over the repeats; None where one is missing."""
    out = {}
    for key in SPREAD_OF:
        values = [f.get(key) for f in repeats]
        if any(v is None for v in values) or not statistics.median(values):
            out[key] = None
        else:
            out[key] = (max(values) - min(values)) / statistics.median(values)
    return out


async def run(
    lab: Lab,
    levels=(1, 10, 50, 100, 200),
    strategies=ARTICLE_STRATEGIES,
    target: str = "sync",
    n: int = 10,
    delay: float = 0.1,
    duration: float = 10.0,
    warmup: float = 3.0,
    clients=(NAIVE,),
    repeat: int = 1,
    workers: int = 1,
    rates=(),
    rate_clients=None,
) -> dict:
    env = await environment(lab)
    rate_clients = tuple(rate_clients or clients)
    scenario = {
        "levels": list(levels),
        "rates": list(rates),
        "strategies": list(strategies),
        "clients": list(clients),
        "rate_clients": list(rate_clients) if rates else [],
        "target": target,
        "n": n,
        "delay": delay,
        "duration": duration,
        "warmup": warmup,
        "repeat": repeat,
    }
    keys = []  # (strategy, client, concurrency, rate): one of the last two set
    for strategy in strategies:
        for client in dict.fromkeys((*clients, *(rate_clients if rates else ()))):
            if not supports(strategy, client):
                print(f"  sweep: skipping {strategy}/{client}: {strategy} has no {client} client", file=sys.stderr)
                continue
            if client in clients:
                keys += [(strategy, client, concurrency, None) for concurrency in levels]
            if client in rate_clients:
                keys += [(strategy, client, None, rate) for rate in rates]
    runs: dict[tuple, list[dict]] = {key: [] for key in keys}
    # Interleaved: every round visits every cell once, so a machine that slows down over
    # the run (another job, thermal, a page cache filling) slows every cell alike.
    for round_ in range(repeat):
        for strategy, client, concurrency, rate in keys:
            url = aggregation_url(lab, strategy, target, n, delay, client=client)
            if rate:
                # Long enough for its p99: a percentile needs 1 / (1 - q) samples.
                plan = open_loop(lab, url, rate, max(duration, OPEN_SAMPLES / rate), warmup, workers)
                where = f"{rate:g}/s"
            else:
                plan = closed_loop(lab, url, concurrency, duration, warmup, workers)
                where = f"c={concurrency}"
            label = f"sweep {strategy}/{client} {where}" + (f" [{round_ + 1}/{repeat}]" if repeat > 1 else "")
            runs[(strategy, client, concurrency, rate)].append(await measure(lab, plan, label))
    cells = []
    for (strategy, client, concurrency, rate), repeats in runs.items():
        cells.append(
            {
                "strategy": strategy,
                "client": client,
                "concurrency": concurrency,
                "rate": rate,
                "url": aggregation_url(lab, strategy, target, n, delay, client=client),
                "figures": median_repeat(repeats, by="p50" if rate else "rps"),
                "repeats": repeats,
                "spread": spread(repeats),
            }
        )
    result = {"experiment": "sweep", "environment": env, "scenario": scenario, "cells": cells}
    for cell in cells:
        cell["bound"] = bounds.of(cell, result)
    return result
