"""`faults`: an open loop through the gateway while `make faults` breaks something and
mends it: the backend stopped and started, a worker killed, the gateway cut off the
backend's network, PostgreSQL restarted. Errors by kind, the longest answer and latency
before, during and after, and how long until clean answers at the old latency again.

loadgen sees the fault from outside, each kind by what it watches (WATCHES): the backend's
/healthz going and coming back, a service's workers (one gone, then a new one) in its
/telemetry, or, where neither shows it, the span of failed answers itself.

Over 250 lines: each fault's watch, the open loop around it and the before/during/after
figures are one experiment.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections import Counter

import aiohttp

from asynclab.api import ARTICLE_TARGETS, DB_TARGETS
from asynclab.grammar import written

from ..lab import Lab, aggregation_url, observed
from ..options import aggregation, arguments, client, duration, open_loop, option
from ..plan import Plan
from ..probe import environment, verify
from .db import Connections

HELP = "open loop while a fault breaks the lab and it mends (use `make faults`)"

# Each fault by name: what loadgen watches to know when it struck and when it was mended.
# The default keeps the results of the first `make faults` (the backend stopped) as they were.
FAULTS = {
    "backend-stopped": "backend",
    "backend-worker-killed": "backend-workers",
    "gateway-worker-killed": "gateway-workers",
    "network-cut": "backend",
    "postgres-restarted": "errors",
}
DEFAULT = "backend-stopped"


def options(parser) -> None:
    open_loop(parser, rate=10.0)
    option(parser, "--duration", env="LOADGEN_DURATION", default=45.0, type=duration, help="length of the run")
    aggregation(parser, fanout=5, delay=0.1)
    option(parser, "--deadline", env="LOADGEN_DEADLINE", default=2.0, type=duration, help="the gateway's deadline")
    option(
        parser,
        "--fault",
        env="LOADGEN_FAULT",
        default=DEFAULT,
        choices=tuple(FAULTS),
        help="what `make faults` does during the run (it names the result and what loadgen watches)",
    )
    option(
        parser,
        "--target",
        env="LOADGEN_TARGET",
        default="async",
        choices=(*ARTICLE_TARGETS, *DB_TARGETS),
        help="backend view each call asks for (db: through PostgreSQL, for postgres-restarted)",
    )
    # aiohttp (the gateway's auto client in async views) resends a GET once when its
    # connection drops: a call cut by a killed backend worker then succeeds late, unlisted.
    client(parser, "auto", "the gateway's HTTP client (shared: httpx, which lists every cut call as failed)")


async def command(args, lab: Lab) -> dict:
    return await run(lab, **arguments(args, run))


async def _watch_backend(url: str, events: list, stop: asyncio.Event, every: float = 0.25) -> None:
    """Record when the backend stops and starts answering /healthz (loadgen's clock)."""
    up = None
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            try:
                async with asyncio.timeout(1):
                    async with session.get(url.rstrip("/") + "/healthz") as response:
                        now_up = response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                now_up = False
            if now_up != up:
                events.append((time.perf_counter(), "up" if now_up else "down"))
                up = now_up
            await asyncio.sleep(every)


async def _watch_workers(url: str, events: list, stop: asyncio.Event, every: float = 0.1) -> None:
    """Record when one of the service's workers goes ("down": its pid left /telemetry) and
    when the service has as many workers as before again, a new one among them ("up")."""
    first: set[int] | None = None
    down = False
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            try:
                async with asyncio.timeout(1):
                    async with session.get(url.rstrip("/") + "/telemetry") as response:
                        pids = {worker["pid"] for worker in (await response.json(content_type=None))["workers"]}
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError):
                pids = None
            if pids is not None:
                if first is None:
                    first = pids
                elif not down and not first <= pids:
                    events.append((time.perf_counter(), "down"))
                    down = True
                elif down and len(pids) >= len(first) and pids - first:
                    events.append((time.perf_counter(), "up"))
                    return
            await asyncio.sleep(every)


def watcher(watch: str, lab: Lab, events: list, stop: asyncio.Event):
    """The task that watches for the fault (FAULTS), or None when the answers alone show it."""
    if watch == "backend":
        return _watch_backend(lab.backend, events, stop)
    if watch.endswith("-workers"):
        return _watch_workers(lab.backend if watch.startswith("backend") else lab.gateway, events, stop)
    return None


def failing_span(timeline: list) -> tuple[float | None, float | None]:
    """From the first failed answer's send to just after the last one's (a partial answer,
    some calls failed, counts): the fault as the answers saw it, for faults nothing else
    shows (a restarted database)."""
    failed = [at for at, _, outcome in timeline if outcome != "ok"]
    return (failed[0], failed[-1] + 1e-3) if failed else (None, None)


def bins(timeline: list, width: float = 1.0) -> list[dict]:
    """The timeline in `width`-second bins: requests, errors (anything not a full 200), p50.

    Each request falls in the bin of its answer (send + latency), when the client saw it:
    one cut by a fault then counts during the fault, not before it when it was sent."""
    found: dict[int, list] = {}
    for at, latency, outcome in timeline:
        found.setdefault(int((at + latency) // width), []).append((latency, outcome))
    return [
        {
            "t": index * width,
            "requests": len(items),
            "errors": sum(o != "ok" for _, o in items),
            "p50": statistics.median(lat for lat, _ in items),
            # Each kind: an HTTP status ("502"), "partial" (a 200 with failed calls) or a
            # transport error ("disconnect"), as the timeline records it.
            "errors_by": dict(Counter(str(o) for _, o in items if o != "ok")),
            "longest": max(lat for lat, _ in items),
        }
        for index, items in sorted(found.items())
    ]


def recovery(timeline_bins: list[dict], down_at: float | None, up_at: float | None) -> dict:
    """Error rate and latency before, during and after an outage, and how long after the
    backend answered again the gateway was back to clean answers at its old latency."""

    def phase(items):
        requests = sum(b["requests"] for b in items)
        errors = sum(b["errors"] for b in items)
        found = {
            "requests": requests,
            "error_rate": errors / requests if requests else None,
            "p50": statistics.median([b["p50"] for b in items]) if items else None,
        }
        # Bins from a timeline (bins()) carry their errors by kind and their longest answer.
        if all("errors_by" in b for b in items):
            found["errors_by"] = dict(sorted(sum((Counter(b["errors_by"]) for b in items), Counter()).items()))
            found["longest"] = max((b["longest"] for b in items), default=None)
        return found

    if down_at is None or up_at is None:
        return {"outage_seen": False}
    # Every bin in one phase: a bin the fault's start or end falls in counts as during, so a
    # fault shorter than a bin (a worker killed and replaced in 0.5 s) still has its own.
    before = [b for b in timeline_bins if b["t"] + 1 <= down_at]
    during = [b for b in timeline_bins if b["t"] + 1 > down_at and b["t"] < up_at]
    after = [b for b in timeline_bins if b["t"] >= up_at]
    baseline = phase(before)["p50"]
    recovered = next(
        (b["t"] + 1 for b in after if b["errors"] == 0 and baseline is not None and b["p50"] <= 1.5 * baseline + 0.05),
        None,
    )
    return {
        "outage_seen": True,
        "down_at": round(down_at, 2),
        "up_at": round(up_at, 2),
        "outage": round(up_at - down_at, 2),
        "before": phase(before),
        "during": phase(during),
        "after": phase(after),
        "recovered_after": None if recovered is None else round(recovered - up_at, 2),
    }


async def run(
    lab: Lab,
    strategy: str = "gather",
    rate: float = 10.0,
    duration: float = 45.0,
    n: int = 5,
    delay: float = 0.1,
    deadline: float = 2.0,
    workers: int = 1,
    fault: str = DEFAULT,
    target: str = "async",
    client: str = "auto",
) -> dict:
    """An open loop at `rate` for `duration` while someone (make faults) causes `fault` and
    mends it; loadgen watches what FAULTS says to know when."""
    env = await environment(lab)
    url = aggregation_url(
        lab, strategy, target, n, delay, client=None if client == "auto" else client, **{"deadline": written(deadline)}
    )
    await verify(url, lab.timeout)
    events: list = []
    stop = asyncio.Event()
    watching = watcher(FAULTS[fault], lab, events, stop)
    task = asyncio.create_task(watching) if watching is not None else None
    # No silent resend of a GET whose connection the fault cut: it counts as the error it was.
    plan = Plan(
        workers=workers, urls=(url,), rate=rate, duration=duration, timeout=lab.timeout, timeline=True, retry=False
    )
    # Through the database: PostgreSQL's own count of connections, before, during and after,
    # says whether a restart leaked any (loadgen/experiments/db.py polls the backend's /database).
    database = Connections(lab.backend) if target in DB_TARGETS else contextlib.nullcontext()
    started = time.perf_counter()
    try:
        async with database as watch:
            figures = await observed(lab, plan, f"faults {fault}: {strategy} at {rate:g}/s")
    finally:
        stop.set()
        if task is not None:
            await task
    if task is None:
        down, up = failing_span(figures["timeline"])
    else:
        # Timeline offsets count from the measurement window's start, which is `started`.
        down = next((at - started for at, what in events if what == "down"), None)
        up = next(
            (at - started for at, what in events if what == "up" and down is not None and at - started > down), None
        )
    timeline_bins = bins(figures["timeline"])
    return {
        "experiment": "faults",
        # The first fault keeps its results' old name; every other is a variant of its own.
        **({"variant": fault} if fault != DEFAULT else {}),
        "environment": env,
        "scenario": {
            "fault": fault,
            "watched": FAULTS[fault],
            "strategy": strategy,
            "target": target,
            "client": client,
            "rate": rate,
            "duration": duration,
            "n": n,
            "delay": delay,
            "deadline": deadline,
            "url": url,
        },
        "figures": figures,
        "bins": timeline_bins,
        "recovery": recovery(timeline_bins, down, up),
        "connections": connections(watch) if watch is not None else None,
    }


def connections(watch: Connections) -> dict:
    """PostgreSQL's client connections as the run began, at their peak, and once it had
    settled after it: more after than before is a connection the fault left open."""
    counts = [sample["connections"]["total"] for sample in watch.samples if sample.get("connections")]
    after = (watch.after or {}).get("connections")
    if not counts:
        return {"reported": False}
    return {"reported": True, "before": counts[0], "peak": max(counts), "after": after["total"] if after else None}
