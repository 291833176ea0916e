"""`servers`: the same workloads on whichever server mode is running, for the server
matrix (`make servers` runs it once per SERVER_MODE and the report ranks them).

Four workloads: the CPU per request of the backend's trivial sync and async views; the
article table's gather cell; a short tuned sweep (gather with `client=auto`, repeated and
interleaved like the sweep's, each cell with its `bound by`); and the threads and memory
each service ran at that sweep's concurrency.
"""

from __future__ import annotations

import statistics

from asynclab.api import BACKEND_VIEWS

from ..lab import Lab, closed_loop, measure
from ..options import arguments, option, positive, window
from ..probe import BrokenTarget, environment
from . import article, sweep

HELP = "the server matrix's workloads on the running SERVER_MODE (make servers runs every mode)"

# The trivial views' CPU is read at a small fixed concurrency: enough to keep a worker
# busy, too little to queue.
CPU_CONCURRENCY = 4
TRIVIAL = ("sync", "async")


def options(parser) -> None:
    option(
        parser,
        "--level",
        env="LOADGEN_LEVEL",
        default=20,
        type=positive(int, 1000),
        help="the tuned sweep's concurrency (and where threads and RSS are read)",
    )
    option(
        parser,
        "--repeat",
        env="LOADGEN_REPEAT",
        default=3,
        type=positive(int, 20),
        help="runs of every cell, interleaved",
    )
    window(parser, 3.0, 1.0)


async def command(args, lab: Lab) -> dict:
    return await run(lab, **arguments(args, run))


def trivial_url(lab: Lab, view: str) -> str:
    return lab.backend.rstrip("/") + BACKEND_VIEWS[view] + "?delay=0"


def cpu_per_request(repeats: list[dict]) -> dict:
    """The backend's CPU ms per request over the repeats: median and (max - min) / median."""
    values = [((r.get("services") or {}).get("backend") or {}).get("cpu_ms_per_request") for r in repeats]
    values = [v for v in values if v is not None]
    if not values:
        return {"median": None, "spread": None, "values": []}
    middle = statistics.median(values)
    return {"median": middle, "spread": (max(values) - min(values)) / middle if middle else None, "values": values}


async def run(
    lab: Lab,
    level: int = 20,
    repeat: int = 3,
    duration: float = 3.0,
    warmup: float = 1.0,
    workers: int = 1,
) -> dict:
    env = await environment(lab)
    runs: dict[str, list[dict]] = {view: [] for view in TRIVIAL}
    # Interleaved, as the sweep's cells are: sync, async, sync, async...
    for round_ in range(repeat):
        for view in TRIVIAL:
            plan = closed_loop(lab, trivial_url(lab, view), CPU_CONCURRENCY, duration, warmup, workers)
            label = f"servers {view} view c={CPU_CONCURRENCY} [{round_ + 1}/{repeat}]"
            runs[view].append(await measure(lab, plan, label))
    cpu = {view: {**cpu_per_request(figures), "repeats": figures} for view, figures in runs.items()}
    # The article's gather cell (n = 10 calls of 1 s to the sync view, one at a time): the
    # cell whose verdict has changed since Django 3.1.
    # A server that serves one request at a time (gunicorn-sync, one worker) times the
    # calls out as the article's uvicorn did: measured and said, not refused.
    cell = await article.run(lab, strategies=("gather",), targets=("sync",), allow_errors=True)
    try:
        tuned = await sweep.run(
            lab,
            levels=(level,),
            strategies=("gather",),
            clients=("auto",),
            target="async",
            repeat=repeat,
            duration=duration,
            warmup=warmup,
            workers=workers,
        )
        cells, refused = tuned["cells"], None
    except BrokenTarget as exc:
        # A mode that cannot serve the tuned cell at all (one request at a time, with the
        # article cell's abandoned calls still queued) is a result of the matrix too.
        tuned, cells, refused = {"scenario": {"n": 10, "delay": 0.1, "target": "async"}}, [], str(exc)
    return {
        "experiment": "servers",
        "environment": env,
        "scenario": {
            "level": level,
            "repeat": repeat,
            "duration": duration,
            "warmup": warmup,
            "cpu_concurrency": CPU_CONCURRENCY,
            "sweep": tuned["scenario"],
            "article": cell["scenario"],
        },
        "cpu": cpu,
        "article": cell["rows"],
        "sweep": cells,
        "refused": refused,
    }
