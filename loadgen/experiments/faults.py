"""`faults`: an open loop through the gateway while the backend is stopped and started
again (`make faults`): errors and latency before, during and after, and the recovery."""

from __future__ import annotations

import asyncio
import statistics
import time

import aiohttp

from asynclab.grammar import written

from ..lab import Lab, aggregation_url, observed
from ..options import aggregation, arguments, duration, open_loop, option
from ..plan import Plan
from ..probe import environment, verify

HELP = "open loop while the backend is stopped and started (use `make faults`)"


def options(parser) -> None:
    open_loop(parser, rate=10.0)
    option(parser, "--duration", env="LOADGEN_DURATION", default=45.0, type=duration, help="length of the run")
    aggregation(parser, fanout=5, delay=0.1)
    option(parser, "--deadline", env="LOADGEN_DEADLINE", default=2.0, type=duration, help="the gateway's deadline")


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


def bins(timeline: list, width: float = 1.0) -> list[dict]:
    """The timeline in `width`-second bins: requests, errors (anything not a full 200), p50."""
    found: dict[int, list] = {}
    for at, latency, outcome in timeline:
        found.setdefault(int(at // width), []).append((latency, outcome))
    return [
        {
            "t": index * width,
            "requests": len(items),
            "errors": sum(o != "ok" for _, o in items),
            "p50": statistics.median(lat for lat, _ in items),
        }
        for index, items in sorted(found.items())
    ]


def recovery(timeline_bins: list[dict], down_at: float | None, up_at: float | None) -> dict:
    """Error rate and latency before, during and after an outage, and how long after the
    backend answered again the gateway was back to clean answers at its old latency."""

    def phase(items):
        requests = sum(b["requests"] for b in items)
        errors = sum(b["errors"] for b in items)
        return {
            "requests": requests,
            "error_rate": errors / requests if requests else None,
            "p50": statistics.median([b["p50"] for b in items]) if items else None,
        }

    if down_at is None or up_at is None:
        return {"outage_seen": False}
    before = [b for b in timeline_bins if b["t"] + 1 <= down_at]
    during = [b for b in timeline_bins if down_at <= b["t"] < up_at]
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
) -> dict:
    """An open loop at `rate` for `duration` while someone (make faults) stops the backend
    and starts it again; loadgen watches the backend's /healthz to know when."""
    env = await environment(lab)
    url = aggregation_url(lab, strategy, "async", n, delay, deadline=written(deadline))
    await verify(url, lab.timeout)
    events: list = []
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch_backend(lab.backend, events, stop))
    plan = Plan(workers=workers, urls=(url,), rate=rate, duration=duration, timeout=lab.timeout, timeline=True)
    started = time.perf_counter()
    try:
        figures = await observed(lab, plan, f"faults {strategy} at {rate:g}/s")
    finally:
        stop.set()
        await watcher
    # Timeline offsets count from the measurement window's start, which is `started`.
    down = next((at - started for at, what in events if what == "down"), None)
    up = next((at - started for at, what in events if what == "up" and down is not None and at - started > down), None)
    timeline_bins = bins(figures["timeline"])
    return {
        "experiment": "faults",
        "environment": env,
        "scenario": {
            "strategy": strategy,
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
    }
