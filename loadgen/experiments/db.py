"""`db`: the aggregation against each of the backend's database endpoints, over a
concurrency sweep, with the database connections PostgreSQL itself reports.

What it shows: under WSGI a backend can hold at most workers x threads connections, so
the database sees a bounded number whatever the load; under ASGI every call in flight
runs its queries on a thread of its own and holds a connection of its own for the whole
request, so connections follow concurrency (up to PostgreSQL's max_connections, after
which calls fail). A pool (DB_POOL) caps them again, and turns the excess into waiting.
Run it once per stack (SERVER_MODE x DB x DB_POOL; `make db` runs them all): the
stack's settings are recorded with the result and the report lines the variants up.
"""

from __future__ import annotations

import asyncio
import sys
import time

import aiohttp

from asynclab.api import DB_TARGETS

from ..lab import Lab, aggregation_url, closed_loop, measure
from ..options import aggregation, arguments, choices, client, levels, option, window
from ..probe import environment
from ..sampler import Poller

HELP = "the database endpoints over a concurrency sweep, with PostgreSQL's connections"

# /database is polled this often during a scenario.
INTERVAL = 0.5
# How long after a scenario connections may take to close before they count as left open;
# and how long to keep asking a backend still busy with calls the gateway gave up on.
SETTLE = 2.0
AFTER_PATIENCE = 20.0


async def _stats(session: aiohttp.ClientSession, backend: str) -> dict | None:
    try:
        async with asyncio.timeout(3):
            async with session.get(backend.rstrip("/") + "/database") as response:
                return await response.json(content_type=None) if response.status == 200 else None
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None


def summarise(samples: list[dict], after: dict | None) -> dict:
    """Peaks of PostgreSQL's connection counts over a scenario, and what stayed open after."""
    counts = [s["connections"] for s in samples if s and s.get("connections")]
    if not counts:
        return {"reported": False}
    return {
        "reported": True,
        "max": counts[-1]["max"],
        "peak": max(c["total"] for c in counts),
        "active_peak": max(c["by_state"].get("active", 0) for c in counts),
        "idle_before": counts[0]["by_state"].get("idle", 0),
        "after": after["connections"]["total"] if after and after.get("connections") else None,
        "samples": len(counts),
    }


class Connections(Poller):
    """`async with Connections(backend) as watch:` polls /database; `watch.summary()`."""

    def __init__(self, backend: str, interval: float = INTERVAL) -> None:
        self.backend, self.interval = backend, interval
        self.samples: list[dict] = []
        self.after: dict | None = None

    async def poll(self) -> None:
        if (stats := await _stats(self._session, self.backend)) is not None:
            self.samples.append(stats)

    async def finish(self) -> None:
        # Calls the gateway gave up on may still be running in the backend: let them end.
        await asyncio.sleep(SETTLE)
        deadline = time.monotonic() + AFTER_PATIENCE
        while (after := await _stats(self._session, self.backend)) is None and time.monotonic() < deadline:
            await asyncio.sleep(self.interval)
        self.after = after

    def summary(self) -> dict:
        return summarise(self.samples, self.after)


def variant(env: dict) -> str:
    """sqlite, postgres or postgres+pool: the backend's database set-up, from its /healthz."""
    database = (env.get("backend") or {}).get("database") or {}
    engine = {"sqlite3": "sqlite", "postgresql": "postgres"}.get(
        database.get("engine"), database.get("engine") or "none"
    )
    return engine + ("+pool" if database.get("pool") else "")


def options(parser) -> None:
    levels(parser, (1, 10, 40))
    option(
        parser,
        "--targets",
        env="LOADGEN_TARGETS",
        default=DB_TARGETS,
        type=choices(DB_TARGETS),
        help="the backend's database views",
    )
    aggregation(parser, fanout=5, delay=0.1, delay_help="seconds each call spends in the database")
    window(parser, 5.0, 1.0)
    client(
        parser, "auto", help="the gateway's HTTP client (auto: its fastest, so the backend's database is what limits)"
    )


async def command(args, lab: Lab) -> dict:
    return await run(lab, **arguments(args, run))


async def run(
    lab: Lab,
    levels=(1, 10, 40),
    targets=DB_TARGETS,
    n: int = 5,
    delay: float = 0.1,
    duration: float = 5.0,
    warmup: float = 1.0,
    client: str = "auto",
    workers: int = 1,
) -> dict:
    env = await environment(lab)
    name = variant(env)
    if name == "none":
        raise SystemExit("loadgen db: the backend reports no database (is it this version of the lab?)")
    cells = []
    for target in targets:
        url = aggregation_url(lab, "gather", target, n, delay, client=client)
        for concurrency in levels:
            plan = closed_loop(lab, url, concurrency, duration, warmup, workers, max_duration=duration + 10)
            async with Connections(lab.backend) as watch:
                figures = await measure(lab, plan, f"db {name} {target} c={concurrency}", allow_errors=True)
            figures["database"] = watch.summary()
            if lab.progress is not False:
                print(f"    connections: {connections_phrase(figures['database'])}", file=sys.stderr, flush=True)
            cells.append({"target": target, "concurrency": concurrency, "url": url, "figures": figures})
    return {
        "experiment": "db",
        "variant": name,
        "environment": env,
        "scenario": {
            "levels": list(levels),
            "targets": list(targets),
            "strategy": "gather",
            "n": n,
            "delay": delay,
            "duration": duration,
            "warmup": warmup,
            "client": client,
        },
        "cells": cells,
    }


def connections_phrase(seen: dict) -> str:
    if not seen.get("reported"):
        return "not reported (SQLite has no server to ask, or the backend did not answer)"
    after = "?" if seen["after"] is None else seen["after"]
    return f"peak {seen['peak']} of {seen['max']} ({seen['active_peak']} active), {after} open after"
