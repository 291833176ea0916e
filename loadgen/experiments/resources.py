"""`resources`, the article's Part III: what a parked thread and a parked task cost in this
container, then the threads and memory each service really runs under load."""

from __future__ import annotations

import asyncio
import sys

from .. import bounds, memory
from ..lab import Lab, aggregation_url, closed_loop, measure
from ..options import aggregation, arguments, at_most, client, option, positive, strategies, target, window
from ..probe import environment

HELP = "memory per thread vs per task, and the services' threads and memory under load"

MEMORY_COUNTS = {"threads": 10_000, "tasks_sleep": 100_000, "tasks_event": 100_000}


def options(parser) -> None:
    option(
        parser,
        "--concurrency",
        "-c",
        env="LOADGEN_CONCURRENCY",
        default=200,
        type=positive(int),
        help="closed-loop concurrency",
    )
    strategies(parser, ("gather", "threadpool"))
    target(parser, "async")
    aggregation(parser, fanout=5, delay=0.2)
    window(parser, 8.0, 2.0, per="scenario")
    option(
        parser,
        "--threads",
        env="LOADGEN_THREADS",
        default=10_000,
        type=at_most(int, 50_000),
        help="idle threads to measure (0: none; make lab measures them in its first mode only)",
    )
    client(parser, "article", help="the gateway's HTTP client")
    option(
        parser,
        "--tasks",
        env="LOADGEN_TASKS",
        default=100_000,
        type=at_most(int, 1_000_000),
        help="parked asyncio tasks to measure (0: none)",
    )


async def command(args, lab: Lab) -> dict:
    counts = {"threads": args.threads, "tasks_sleep": args.tasks, "tasks_event": args.tasks}
    return await run(lab, **arguments(args, run, without=("memory_counts",)), memory_counts=counts)


async def run(
    lab: Lab,
    concurrency: int = 200,
    strategies=("gather", "threadpool"),
    target: str = "async",
    n: int = 5,
    delay: float = 0.2,
    duration: float = 8.0,
    warmup: float = 2.0,
    memory_counts: dict[str, int] | None = None,
    client: str = "article",
    workers: int = 1,
) -> dict:
    env = await environment(lab)
    parked = {}
    for kind, count in (MEMORY_COUNTS if memory_counts is None else memory_counts).items():
        if not count:
            continue
        # A child interpreter for each, off the event loop.
        parked[kind] = await asyncio.to_thread(memory.measure, kind, count)
        if lab.progress is not False:
            each = parked[kind].get("bytes_each")
            print(
                f"  memory: {count} {kind}: "
                + (f"{each / 1024:.1f} KiB each" if each else parked[kind].get("error", "?")),
                file=sys.stderr,
                flush=True,
            )
    cells = []
    for strategy in strategies:
        url = aggregation_url(lab, strategy, target, n, delay, client=client)
        # Peaks, not throughput: the window is not stretched to the latency (under wsgi
        # ~20 s at c=200: 10 backend threads, 50 calls/s), so Little's law need not hold.
        # The short default delay keeps that tail, which make lab waits out, short.
        plan = closed_loop(lab, url, concurrency, duration, warmup, workers, max_duration=duration)
        figures = await measure(lab, plan, f"resources {strategy} c={concurrency}")
        cells.append({"strategy": strategy, "concurrency": concurrency, "url": url, "figures": figures})
    result = {
        "experiment": "resources",
        "environment": env,
        "memory": parked,
        "scenario": {
            "concurrency": concurrency,
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
    for cell in cells:
        cell["bound"] = bounds.of(cell, result)
    return result
