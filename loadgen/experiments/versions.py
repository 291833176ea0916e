"""`versions`: what changes with the Django the services run (DJANGO=3.1 ... 6.1), and the
report section that sets the versions side by side (docs/versions.md).

The command measures, on the running stack, what the article's table does not: the
backend's CPU per request of its trivial sync and async views (as `loadgen servers` reads
it), and the threads the backend runs per request in flight on its async view. `make
versions` runs it with `loadgen article` on every version, in asgi and wsgi, and on the
default version with DJANGO31_THREADS=on, the emulation of 3.1 that the real 3.1 checks.

Results on another Django than the default key as their own experiment (`article@3.1`,
loadgen/results.py), so the other sections keep showing the default Django alone.
"""

from __future__ import annotations

from asynclab.api import BACKEND_VIEWS

from ..lab import Lab, closed_loop, measure
from ..options import arguments, option, positive, window
from ..probe import environment
from . import servers

HELP = "CPU per request and threads per request in flight on this Django (make versions runs every DJANGO)"

TRIVIAL = servers.TRIVIAL


def options(parser) -> None:
    option(
        parser,
        "--level",
        env="LOADGEN_LEVEL",
        default=20,
        type=positive(int, 1000),
        help="requests in flight on the backend's async view, for its threads per request",
    )
    option(
        parser,
        "--delay",
        env="LOADGEN_DELAY",
        default=1.0,
        type=positive(float, 30),
        help="seconds each of those requests waits",
    )
    option(parser, "--repeat", env="LOADGEN_REPEAT", default=1, type=positive(int, 20), help="runs of every CPU cell")
    window(parser, 2.0, 0.5)


async def command(args, lab: Lab) -> dict:
    return await run(lab, **arguments(args, run))


async def run(
    lab: Lab,
    level: int = 20,
    delay: float = 1.0,
    repeat: int = 1,
    duration: float = 2.0,
    warmup: float = 0.5,
    workers: int = 1,
) -> dict:
    env = await environment(lab)
    cells = []
    runs: dict[str, list[dict]] = {view: [] for view in TRIVIAL}
    for round_ in range(repeat):
        for view in TRIVIAL:
            plan = closed_loop(lab, servers.trivial_url(lab, view), servers.CPU_CONCURRENCY, duration, warmup, workers)
            figures = await measure(lab, plan, f"versions {view} view c={servers.CPU_CONCURRENCY} [{round_ + 1}]")
            runs[view].append(figures)
            cells.append({"target": view, "concurrency": servers.CPU_CONCURRENCY, "figures": figures})
    # A window of at least two delays, so every request in flight is seen whole.
    url = f"{lab.backend.rstrip('/')}{BACKEND_VIEWS['async']}?delay={delay:g}"
    plan = closed_loop(lab, url, level, max(duration, 2 * delay), warmup, workers)
    held = await measure(lab, plan, f"versions async view c={level}, {delay:g} s")
    cells.append({"target": "async", "concurrency": level, "figures": held})
    return {
        "experiment": "versions",
        "environment": env,
        "scenario": {
            "level": level,
            "delay": delay,
            "repeat": repeat,
            "duration": duration,
            "warmup": warmup,
            "cpu_concurrency": servers.CPU_CONCURRENCY,
        },
        "cpu": {view: servers.cpu_per_request(figures) for view, figures in runs.items()},
        "threads": threads_per_request(held),
        "cells": cells,
    }


def threads_per_request(figures: dict) -> dict:
    """The backend's threads above idle at its peak, over its peak of requests in flight."""
    seen = (figures.get("services") or {}).get("backend") or {}
    peak, idle, busy = seen.get("threads_peak"), seen.get("threads_idle"), seen.get("in_flight_peak")
    if None in (peak, idle) or not busy:
        return {"peak": peak, "idle": idle, "in_flight": busy, "per_request": None}
    return {"peak": peak, "idle": idle, "in_flight": busy, "per_request": max(0, peak - idle) / busy}


# --- the report's section ------------------------------------------------------------------
