"""`freethreaded`: what the GIL does to one process (issue 28, docs/freethreaded.md), on
whichever interpreter the running stack has (PYTHON=3.14 or 3.14t); `make freethreaded`
runs it on both, with 1, 2 and 4 threads, and the report sets them side by side.

Four parts, each chosen with --parts:
- cpu: closed-loop throughput of the backend's /api/cpu/?ms=M at a concurrency of the
  backend's threads (one request per thread), repeated and interleaved with `single`;
  with one thread the two are the same runs, measured once;
- single: the same view at c=1: the backend's CPU ms per request from its telemetry, the
  cost of one thread alone (the article's "an order of magnitude slower" claim);
- memory: RSS per parked thread and per parked task (loadgen.memory). It runs in a child
  of *loadgen's* interpreter (the default image, with the GIL): the result says so and never
  passes it off as the backend's. The backend's own interpreter is measured by `make
  freethreaded` from the host (campaigns/freethreaded.py), where it can reach it;
- aggregation: the article's gather and thread-pool aggregations under load (the sweep's
  cells at one concurrency), threads against async on this interpreter.

The result is labelled free-threaded only when the backend's every worker reported the GIL
off, before and after the measurements (asynclab/gil.py): a C extension that turned it back
on makes a 3.14t run a GIL run, and the result says that instead.

Over 250 lines: the four parts' options and the one run() that measures them belong to one
experiment."""

from __future__ import annotations

import asyncio
import platform
import statistics
import sys

from asynclab import gil
from asynclab.api import BACKEND_CPU

from .. import memory, probe
from ..lab import Lab, closed_loop, measure
from ..options import arguments, at_most, choices, clients, option, positive, strategies, target, window
from ..probe import environment
from . import sweep

HELP = "CPU-bound threads on this interpreter (with or without the GIL), memory per thread and task, threads vs async"

PARTS = ("cpu", "single", "memory", "aggregation")
# Milliseconds of work per /api/cpu request: long against a request's own overhead (~1 ms
# of the backend's CPU), short enough for hundreds of requests in a 3 s window.
DEFAULT_MS = 20
MEMORY_DEFAULTS = {"threads": 2_000, "tasks": 20_000}
# What the result is called, from the backend's workers' own reports (verdict()).
FREE_THREADED = "free-threaded"
GIL_RETURNED = "GIL re-enabled"
WITH_GIL = "with the GIL"
UNKNOWN = "unknown"


def options(parser) -> None:
    option(
        parser,
        "--parts",
        env="LOADGEN_PARTS",
        default=("cpu", "single", "memory"),
        type=choices(PARTS),
        help="what to measure: cpu (throughput at c = threads), single (CPU per request at c=1), memory, aggregation",
    )
    option(
        parser,
        "--ms",
        env="LOADGEN_MS",
        default=DEFAULT_MS,
        type=positive(int, 1000),
        help="milliseconds of pure-Python work per /api/cpu request",
    )
    option(
        parser,
        "--cpu-threads",
        env="LOADGEN_CPU_THREADS",
        default=0,
        type=at_most(int, 64),
        help="concurrency of the cpu part (0: the backend's workers x threads, from its /healthz)",
    )
    option(
        parser,
        "--repeat",
        env="LOADGEN_REPEAT",
        default=3,
        type=positive(int, 20),
        help="runs of every cell, interleaved (cpu, single, cpu, single...)",
    )
    option(
        parser,
        "--memory-threads",
        env="LOADGEN_MEMORY_THREADS",
        default=MEMORY_DEFAULTS["threads"],
        type=positive(int, 50_000),
        help="idle threads parked for the memory part",
    )
    option(
        parser,
        "--memory-tasks",
        env="LOADGEN_MEMORY_TASKS",
        default=MEMORY_DEFAULTS["tasks"],
        type=positive(int, 1_000_000),
        help="asyncio tasks parked for the memory part",
    )
    option(
        parser,
        "--level",
        env="LOADGEN_LEVEL",
        default=20,
        type=positive(int, 1000),
        help="the aggregation part's concurrency",
    )
    strategies(parser, ("gather", "threadpool"))
    clients(parser, ("article",), help="the gateway's HTTP clients in the aggregation part")
    target(parser, "sync")
    window(parser, 3.0, 1.0)


async def command(args, lab: Lab) -> dict:
    return await run(lab, **arguments(args, run))


def cpu_url(lab: Lab, ms: int) -> str:
    return f"{lab.backend.rstrip('/')}{BACKEND_CPU}?ms={ms}"


def summary(values: list[float | None]) -> dict:
    """Median, (max - min) / median, min, max and count of the values that exist."""
    found = [v for v in values if v is not None]
    if not found:
        return {"median": None, "spread": None, "min": None, "max": None, "count": 0, "values": []}
    middle = statistics.median(found)
    return {
        "median": middle,
        "spread": (max(found) - min(found)) / middle if middle else None,
        "min": min(found),
        "max": max(found),
        "count": len(found),
        "values": found,
    }


def ratio(top: dict, bottom: dict) -> dict:
    """top / bottom of two summaries: the ratio of their medians, and its range from the
    extremes (top's lowest over bottom's highest, top's highest over bottom's lowest), so a
    ratio is never shown tighter than the runs it came from."""
    if not top.get("median") or not bottom.get("median"):
        return {"median": None, "low": None, "high": None, "counts": [top.get("count", 0), bottom.get("count", 0)]}
    return {
        "median": top["median"] / bottom["median"],
        "low": top["min"] / bottom["max"],
        "high": top["max"] / bottom["min"],
        "counts": [top["count"], bottom["count"]],
    }


def backend(figures: dict, key: str):
    return ((figures.get("services") or {}).get("backend") or {}).get(key)


def cores_busy(figures: dict) -> float | None:
    """The backend's CPU seconds over its window: ~1 when one core did the work, ~2 when two did."""
    seen = (figures.get("services") or {}).get("backend") or {}
    cpu, span = seen.get("cpu_seconds"), seen.get("window")
    return cpu / span if cpu is not None and span else None


def python_of(health: dict | None) -> dict:
    """The backend's interpreter as it says: its version, its build, and its label, '3.14t'
    for a free-threaded build (what PYTHON asked for, not whether the GIL stayed off)."""
    health = health or {}
    version = (health.get("versions") or {}).get("python")
    build = (health.get("gil") or {}).get("free_threaded_build")
    series = ".".join(version.split(".")[:2]) if version else None
    label = None if series is None else series + ("t" if build else "")
    return {"version": version, "free_threaded_build": build, "label": label}


def verdict(before: dict | None, after: dict | None) -> dict:
    """What the result may be called, from the backend's /healthz before and after the
    measurements: free-threaded only if both say a free-threaded build whose every worker
    runs without the GIL (loadgen.probe.free_threaded). A free-threaded build with the GIL
    on in any worker is refused the label, and the result says why."""
    judged = [probe.free_threaded(health) for health in (before, after)]
    builds = [bool(((health or {}).get("gil") or {}).get("free_threaded_build")) for health in (before, after)]
    workers = {
        when: ((health or {}).get("gil") or {}).get("workers")
        for when, health in (("before", before), ("after", after))
    }
    if all(value is True for value in judged):
        label, refused = FREE_THREADED, None
    elif any(builds):
        reasons = [((health or {}).get("gil") or {}).get("reenabled_by") for health in (before, after)]
        why = next((reason for reason in reasons if reason), None) or "a worker reported the GIL on"
        label = GIL_RETURNED
        refused = f"a free-threaded build ran with the GIL in at least one worker ({why}): not free-threaded"
    elif any(value is False for value in judged):
        label, refused = WITH_GIL, None
    else:
        label, refused = UNKNOWN, "the backend's /healthz did not say which GIL its workers run"
    return {
        "label": label,
        "free_threaded": label == FREE_THREADED,
        "refused": refused,
        "workers": workers,
        "gil_enabled": [((health or {}).get("gil_enabled")) for health in (before, after)],
    }


def loadgen_interpreter() -> dict:
    """Where the memory part ran: loadgen's own interpreter, never the backend's."""
    return {
        "interpreter": "loadgen",
        "python": platform.python_version(),
        "free_threaded_build": gil.free_threaded_build(),
        "gil_enabled": gil.enabled(),
        "of_backend": False,
        "note": "measured in a child of loadgen's interpreter, not the backend's: it says nothing of PYTHON=3.14t "
        "unless loadgen runs it (make freethreaded measures the backend's own from the host)",
    }


async def run(
    lab: Lab,
    parts=("cpu", "single", "memory"),
    ms: int = DEFAULT_MS,
    cpu_threads: int = 0,
    repeat: int = 3,
    memory_threads: int = MEMORY_DEFAULTS["threads"],
    memory_tasks: int = MEMORY_DEFAULTS["tasks"],
    level: int = 20,
    strategies=("gather", "threadpool"),
    clients=("article",),
    target: str = "sync",
    duration: float = 3.0,
    warmup: float = 1.0,
    workers: int = 1,
) -> dict:
    env = await environment(lab)
    before = env.get("backend")
    server = (before or {}).get("server") or {}
    # One request per thread the backend has: more would only queue, fewer leave threads idle.
    concurrency = cpu_threads or max(1, (server.get("workers") or 1) * (server.get("threads") or 1))
    url = cpu_url(lab, ms)
    cells: list[dict] = []
    runs: dict[str, list[dict]] = {part: [] for part in ("cpu", "single") if part in parts}
    levels = {"cpu": concurrency, "single": 1}
    # With one thread the cpu part is the single part: measured once, counted for both.
    same = "cpu" in runs and "single" in runs and concurrency == 1
    if same:
        del runs["single"]
    # Interleaved (cpu, single, cpu, single...) so a machine that slows down slows both alike.
    for round_ in range(repeat if runs else 0):
        for part in runs:
            plan = closed_loop(lab, url, levels[part], duration, warmup, workers)
            label = f"freethreaded {part} /api/cpu ms={ms} c={levels[part]} [{round_ + 1}/{repeat}]"
            runs[part].append(await measure(lab, plan, label))
    for part, repeats in runs.items():
        cells.append(
            {
                "part": part,
                "target": "cpu",
                "concurrency": levels[part],
                "url": url,
                "figures": sweep.median_repeat(repeats),
                "repeats": repeats,
                "spread": sweep.spread(repeats),
            }
        )
    measured = {
        part: {
            "rps": summary([r["rps"] for r in repeats]),
            "cpu_ms_per_request": summary([backend(r, "cpu_ms_per_request") for r in repeats]),
            "cores_busy": summary([cores_busy(r) for r in repeats]),
            "errors": sum(r["errors"] for r in repeats),
            "requests": sum(r["requests"] for r in repeats),
        }
        for part, repeats in runs.items()
    }
    if same:
        measured["single"] = {**measured["cpu"], "same_runs_as": "cpu"}
    parked = {}
    if "memory" in parts:
        for kind, count in (("threads", memory_threads), ("tasks_event", memory_tasks)):
            # A child interpreter for each, off the event loop.
            parked[kind] = await asyncio.to_thread(memory.measure, kind, count)
            if lab.progress is not False:
                each = parked[kind].get("bytes_each")
                shown = f"{each / 1024:.1f} KiB each" if each else parked[kind].get("error", "?")
                print(f"  memory (loadgen's interpreter): {count} {kind}: {shown}", file=sys.stderr, flush=True)
        parked["where"] = loadgen_interpreter()
    aggregation = None
    if "aggregation" in parts:
        found = await sweep.run(
            lab,
            levels=(level,),
            strategies=tuple(strategies),
            clients=tuple(clients),
            target=target,
            repeat=repeat,
            duration=duration,
            warmup=warmup,
            workers=workers,
        )
        aggregation = {"scenario": found["scenario"]}
        cells += [{**cell, "part": "aggregation"} for cell in found["cells"]]
    # Again after the load: a worker whose lazy import turned the GIL on mid-run shows it now.
    after = await probe.health(lab.backend)
    python = python_of(before or after)
    gil_verdict = verdict(before, after)
    if gil_verdict["refused"] and lab.progress is not False:
        print(f"loadgen: freethreaded: {gil_verdict['refused']}", file=sys.stderr, flush=True)
    threads = server.get("threads")
    return {
        "experiment": "freethreaded",
        # One result per interpreter and thread count: `make freethreaded` keeps them all.
        "variant": f"py{python['label'] or 'unknown'}" + (f"-t{threads}" if threads else ""),
        "environment": env,
        "python": python,
        "gil": gil_verdict,
        "scenario": {
            "parts": list(parts),
            "ms": ms,
            "concurrency": concurrency,
            "workers": server.get("workers"),
            "threads": threads,
            "repeat": repeat,
            "single_is_cpu": same,
            "duration": duration,
            "warmup": warmup,
            "level": level,
            "aggregation": aggregation["scenario"] if aggregation else None,
        },
        "measured": measured,
        "memory": parked,
        "cells": cells,
    }
