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

from .. import display, markdown
from ..lab import Lab, aggregation_url, closed_loop, measure
from ..options import aggregation, arguments, choices, client, levels, option, window
from ..probe import environment
from ..results import mode_order
from ..sampler import Poller

HELP = "the database endpoints over a concurrency sweep, with PostgreSQL's connections"

WHAT = {
    "db": "sync view, sync ORM",
    "db-async": "async view, async ORM API",
    "db-adapter": "async view, sync_to_async(thread_sensitive=True)",
    "db-adapter-executor": "async view, sync_to_async(thread_sensitive=False)",
}
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


def shown(seen: dict) -> tuple[str, str]:
    """(peak of max, open after) as text: '-' where there is no figure."""
    if not seen.get("reported"):
        return "-", "-"
    return f"{seen['peak']}/{seen['max']}", "?" if seen.get("after") is None else str(seen["after"])


def table(result: dict) -> str:
    s = result["scenario"]
    lines = [
        f"db, SERVER_MODE={result['environment']['server_mode']}, database {result['variant']} "
        f"(gather, n={s['n']} calls of {s['delay']:g} s in the database, {s['duration']:g} s per cell)",
        f"{'target':<20} {'c':>4} {'req/s':>7} {'p50':>9} {'p99':>9} {'errors':>6} {'partial':>7} "
        f"{'be threads':>10} {'conns peak':>10} {'after':>5}",
    ]
    for cell in result["cells"]:
        f = cell["figures"]
        backend = (f.get("services") or {}).get("backend") or {}
        peak, after = shown(f["database"])
        lines.append(
            f"{cell['target']:<20} {cell['concurrency']:>4} {f['rps']:>7.1f} {display.latency(f, 'p50'):>9} "
            f"{display.latency(f, 'p99'):>20} {display.errors(f):>14} {f['partial']:>7} "
            f"{backend.get('threads_peak', '?'):>10} {peak:>10} {after:>5}"
        )
    return "\n".join(lines)


VARIANTS = ("sqlite", "postgres", "postgres+pool")

HEADER = (
    "database",
    "mode",
    "target",
    "c",
    "req/s",
    "p50",
    "p99",
    "errors",
    "partial",
    "backend threads",
    "connections peak",
    "open after",
)

HOW_TO_READ = [
    "How to read it:",
    "",
    "- Under WSGI the backend runs at most workers x threads requests, so it never holds more "
    "connections than that, whatever the load: its threads are the ceiling.",
    "- Under ASGI every call in flight runs its queries on a thread of its own and holds its own "
    "connection until the request ends, so connections follow concurrency until PostgreSQL refuses "
    "them (*partial* results: `too many clients already`).",
    "- The async ORM API (`db-async`) is `sync_to_async` underneath: the same threads and connections "
    "as the sync view.",
    "- `DB_POOL=true` caps connections per worker and turns the excess into waiting: throughput is "
    "then pool size / query time, the same kind of ceiling WSGI's threads give.",
    "- `thread_sensitive=False` (`db-adapter-executor`) runs the ORM on the event loop's default "
    "executor (min(32, cores + 4) threads), which caps its throughput; Django's end-of-request "
    "clean-up never runs there, so its connections are never closed: under ASGI one per executor "
    "thread stays open, under WSGI (a one-off loop per request) every request leaks one, and with a "
    "pool every request keeps a pooled connection until the pool is empty.",
]


def section(latest: dict, folder) -> list[str]:
    # Each database set-up is an experiment of its own in the results ("db/<variant>").
    keys = [key for key in latest if key[0].startswith("db/")]
    if not keys:
        return []
    order = {name: i for i, name in enumerate(VARIANTS)}
    keys.sort(key=lambda k: (order.get(k[0][3:], len(order)), mode_order(k[1])))
    s = latest[keys[0]]["scenario"]
    rows = []
    for key in keys:
        result = latest[key]
        for cell in result["cells"]:
            f = cell["figures"]
            backend = (f.get("services") or {}).get("backend") or {}
            peak, after = shown(f.get("database") or {})
            rows.append(
                [
                    result["variant"],
                    key[1],
                    cell["target"],
                    cell["concurrency"],
                    f"{f['rps']:.1f}",
                    display.latency(f, "p50"),
                    display.latency(f, "p99"),
                    display.errors(f),
                    f["partial"],
                    backend.get("threads_peak", "?"),
                    peak,
                    after,
                ]
            )
    return [
        "## The database: threads and connections",
        "",
        f"gather, n = {s['n']} calls per aggregation, each spending {s['delay']:g} s *in the database* "
        "(`pg_sleep`, or a SQLite function that blocks inside the statement), "
        f"{s['duration']:g} s per cell. Targets: "
        + "; ".join(f"`{target}` = {what}" for target, what in WHAT.items())
        + ".",
        "",
        "*connections* are PostgreSQL's own count (`pg_stat_activity`, client backends of the lab's database, "
        "without the probe's own): the peak during the cell of the total it allows, and how many were still "
        "open 2 s after the load stopped. SQLite has no server to ask. A connection that stays open after "
        "the load is one Django did not close at the end of its request.",
        "",
        *markdown.table(HEADER, rows),
        "",
        *HOW_TO_READ,
        "",
    ]
