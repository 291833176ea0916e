"""`faults`: an open loop through the gateway while the backend is stopped and started
again (`make faults`): errors and latency before, during and after, and the recovery."""

from __future__ import annotations

import asyncio
import statistics
import time

import aiohttp

from asynclab.grammar import written

from .. import markdown
from ..lab import Lab, aggregation_url, observed
from ..options import aggregation, arguments, duration, open_loop, option
from ..plan import Plan
from ..probe import environment, verify
from ..results import modes
from ..units import format_duration

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


def _rate(phase: dict) -> str:
    return "-" if phase["error_rate"] is None else f"{phase['error_rate']:.0%}"


def table(result: dict) -> str:
    r, s = result["recovery"], result["scenario"]
    lines = [
        f"faults, SERVER_MODE={result['environment']['server_mode']}: {s['strategy']} at {s['rate']:g}/s for "
        f"{s['duration']:g} s (n={s['n']}, deadline {s['deadline']:g} s)"
    ]
    if not r["outage_seen"]:
        return "\n".join(
            lines + ["the backend never went down and came back during the run (run it with `make faults`)"]
        )
    lines.append(f"backend down at {r['down_at']:.1f} s, up at {r['up_at']:.1f} s ({r['outage']:.1f} s)")
    for name in ("before", "during", "after"):
        p = r[name]
        lines.append(f"  {name:<7} {p['requests']:>5} requests, errors {_rate(p):>5}, p50 {format_duration(p['p50'])}")
    lines.append(
        "recovered "
        + (
            "never, within the run"
            if r["recovered_after"] is None
            else f"{r['recovered_after']:.1f} s after the backend answered again"
        )
    )
    return "\n".join(lines)


HEADER = ("mode", "outage", "errors before", "during", "after", "p50 before", "during", "after", "clean again after")


def section(latest: dict, folder) -> list[str]:
    found = modes(latest, "faults")
    if not found:
        return []
    rows = []
    for mode in found:
        r = latest[("faults", mode)]["recovery"]
        if not r.get("outage_seen"):
            rows.append([mode, "not seen", *[""] * (len(HEADER) - 2)])
            continue
        rows.append(
            [
                mode,
                f"{r['outage']:.1f} s",
                *(_rate(r[p]) for p in ("before", "during", "after")),
                *(format_duration(r[p]["p50"]) for p in ("before", "during", "after")),
                "never" if r["recovered_after"] is None else f"{r['recovered_after']:.1f} s",
            ]
        )
    return [
        "## Backend stopped and started (`make faults`)",
        "",
        "Open loop through the gateway while the backend is stopped and started again; errors are "
        "answers that were not a full 200 (all calls failed: 502; some: partial).",
        "",
        *markdown.table(HEADER, rows),
        "",
    ]
