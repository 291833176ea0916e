"""`streams`: N server-sent event streams held open at once, per view, and what they cost.

Per level and view (the backend's async and sync generators, the gateway's aggregation as
a stream): N streams are opened over `--ramp`, each long enough to stay open for `--hold`
once all are; every event is read. Per cell: streams established (first event), refused
(connect error or 503), waiting (connected but never served within the cell: queued behind
a server's threads), cut or failed; time to first event; event lag (arrival minus the time
the event was due; HdrHistogram); the most open at once, as loadgen and the service's own
gauge (/streams) saw them, and how many were still open after; the service's threads and
RSS per open stream (/telemetry); and an open loop of ordinary requests meanwhile.

Bounded: a cell ends `ramp + hold + grace` after it starts whatever the server does, and
every connection it opened is closed then.

Over 250 lines: opening, reading and counting the streams of one cell is one measurement.
"""

from __future__ import annotations

import asyncio
import math
import time
from urllib.parse import urlencode

import aiohttp

from asynclab.api import BACKEND_STREAMS, BACKEND_VIEWS, GATEWAY_STREAM, STRATEGIES
from asynclab.grammar import written

from .. import display, probe
from ..lab import Lab
from ..options import arguments, choices, duration, levels, option, positive
from ..plan import Plan
from ..probe import environment
from ..sampler import Sampler
from ..streaming import GRACE, OUTCOMES, SPARE_FDS, Gauge, Tally, file_limit, one_stream, per_stream, settle
from ..units import format_duration

HELP = "N concurrent server-sent event streams per view: held, refused, first event, event lag, threads/RSS per stream"
VIEWS = ("async", "sync", "gateway")


def options(parser) -> None:
    levels(parser, (10, 100, 1000))
    option(
        parser,
        "--views",
        env="LOADGEN_VIEWS",
        default=VIEWS,
        type=choices(VIEWS),
        help="async, sync (the backend's streams) and gateway (the aggregation as a stream)",
    )
    option(parser, "--interval", env="LOADGEN_INTERVAL", default=0.5, type=duration, help="seconds between events")
    option(parser, "--hold", env="LOADGEN_HOLD", default=5.0, type=duration, help="time every stream is open at once")
    option(parser, "--ramp", env="LOADGEN_RAMP", default=2.0, type=duration, help="time over which streams are opened")
    option(
        parser,
        "--rate",
        env="LOADGEN_RATE",
        default=5.0,
        type=positive(float, 1000),
        help="ordinary requests/s sent meanwhile (open loop)",
    )
    option(
        parser,
        "--fanout",
        env="LOADGEN_FANOUT",
        default=4,
        type=positive(int, 100),
        help="backend calls per gateway stream (one at a time, each a part of the stream)",
    )
    option(
        parser,
        "--ordinary-timeout",
        env="LOADGEN_ORDINARY_TIMEOUT",
        default=10.0,
        type=duration,
        dest="ordinary_timeout",
        help="timeout of each ordinary request",
    )


async def command(args, lab: Lab) -> dict:
    return await run(lab, **arguments(args, run))


def stream_url(lab: Lab, view: str, length: float, interval: float, fanout: int) -> str:
    if view == "gateway":
        query = {"n": fanout, "target": "async", "delay": written(round(length / fanout, 3)), "concurrency": 1}
        return lab.gateway.rstrip("/") + GATEWAY_STREAM + "?" + urlencode(query)
    events = math.floor(length / interval) + 1
    return lab.backend.rstrip("/") + BACKEND_STREAMS[view] + "?" + urlencode({"events": events, "interval": interval})


def ordinary_url(lab: Lab, view: str) -> str:
    """What a user of the same service asks meanwhile: a request with no wait in it."""
    if view == "gateway":
        return lab.gateway.rstrip("/") + STRATEGIES["gather"] + "?" + urlencode({"n": 1, "delay": 0, "target": "async"})
    return lab.backend.rstrip("/") + BACKEND_VIEWS["sync"] + "?delay=0"


async def cell(lab: Lab, view: str, level: int, interval: float, hold: float, ramp: float, rate, fanout, timeout):
    length = ramp + hold
    url = stream_url(lab, view, length, interval, fanout)
    served_by = lab.gateway if view == "gateway" else lab.backend
    tally = Tally()
    start = time.perf_counter()
    until = start + 2 * ramp + hold + GRACE
    ordinary = Plan(
        urls=(ordinary_url(lab, view),), rate=rate, duration=hold, warmup=ramp, timeout=timeout, max_inflight=1000
    )
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with (
        aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None)) as session,
        Sampler({"gateway": lab.gateway, "backend": lab.backend}) as sampler,
        Gauge(served_by) as gauge,
    ):

        async def opened_later(index: int) -> None:
            await asyncio.sleep(index * ramp / level)
            await one_stream(session, url, tally, until)

        streams_done = asyncio.gather(*(opened_later(i) for i in range(level)))
        figures = await lab.engine.run(ordinary, label=f"streams {view} x{level} ordinary", progress=False)
        await streams_done
    services = sampler.summary()
    elapsed = time.perf_counter() - start
    after = await settle(served_by)
    held = tally.open_peak
    # What the server holds: its own gauge (a buffered stream is open there for its whole
    # length, while the client sees it open for an instant, at the end).
    serving = max(held, gauge.peak() or 0)
    return {
        "view": view,
        "target": view,
        "concurrency": level,
        "url": url,
        "length": length,
        "wall": round(time.perf_counter() - start, 2),
        "figures": {**figures, "services": services},
        "streams": {
            "outcomes": {key: tally.outcomes.get(key, 0) for key in OUTCOMES},
            "established": tally.first.count,
            "statuses": dict(tally.statuses),
            "held_peak": held,
            "gauge_peak": gauge.peak(),
            "open_after": after,
            "events": tally.events,
            "disordered": tally.disordered,
            "first_event": tally.first.summary(),
            "first_event_histogram": tally.first.saved(),
            "lag": tally.lag.summary(),
            "lag_histogram": tally.lag.saved(),
            "per_stream": {name: per_stream(seen, serving) for name, seen in services.items()},
            "load": load(services.get("gateway" if view == "gateway" else "backend"), figures, level, ramp, elapsed),
        },
    }


def load(seen: dict | None, figures: dict, level: int, ramp: float, elapsed: float) -> dict:
    """What bounded a cell: the serving service's CPU over it (a share of one core: one
    worker is one event loop), the rate streams were opened at, and loadgen's own CPU and
    the machine's busy share over the ordinary requests' window (loadgen is one event loop
    too, reading every event). A service near 100 % opens streams late, and they time out."""
    cpu = seen["cpu_seconds"] if seen else None
    return {
        "open_rate": level / ramp if ramp > 0 else None,
        "service_cpu_seconds": cpu,
        "service_cpu_share": cpu / elapsed if cpu is not None and elapsed > 0 else None,
        "loadgen_cpu_share": (figures.get("loadgen") or {}).get("cpu_share"),
        "machine_busy_share": (figures.get("machine") or {}).get("busy_share"),
    }


def _load(cell: dict) -> str:
    found = cell["streams"].get("load") or {}
    service = "gateway" if cell["view"] == "gateway" else "backend"
    parts = []
    if found.get("open_rate") is not None:
        parts.append(f"opened {found['open_rate']:.0f}/s")
    for label, key in ((f"{service} CPU", "service_cpu_share"), ("loadgen", "loadgen_cpu_share")):
        if found.get(key) is not None:
            parts.append(f"{label} {found[key]:.0%} of a core")
    if found.get("machine_busy_share") is not None:
        parts.append(f"machine busy {found['machine_busy_share']:.0%}")
    return ", ".join(parts) or "-"


async def run(
    lab: Lab,
    levels: tuple[int, ...] = (10, 100, 1000),
    views: tuple[str, ...] = VIEWS,
    interval: float = 0.5,
    hold: float = 5.0,
    ramp: float = 2.0,
    rate: float = 5.0,
    fanout: int = 4,
    ordinary_timeout: float = 10.0,
) -> dict:
    env = await environment(lab)
    # A stream through the gateway holds two sockets there, one here: loadgen needs one per
    # stream and per ordinary request in flight.
    fds = file_limit(max(levels) + int(rate * ordinary_timeout) + SPARE_FDS)
    if not fds["fits"]:
        raise SystemExit(
            f"loadgen streams: {max(levels)} streams need about {fds['needed']} open files; "
            f"loadgen may open {fds['soft']} (ulimit -n): raise it or lower --levels"
        )
    cells = []
    for level in levels:
        for view in views:
            if lab.drain:
                await probe.drain(
                    [(lab.backend.rstrip("/") + "/api/?delay=0", probe.width(env.get("backend")))], timeout=60
                )
            found = await cell(lab, view, level, interval, hold, ramp, rate, fanout, ordinary_timeout)
            cells.append(found)
            if lab.progress is not False:
                print("  " + line(found), flush=True)
    return {
        "experiment": "streams",
        "environment": env,
        "scenario": {
            "levels": list(levels),
            "views": list(views),
            "interval": interval,
            "hold": hold,
            "ramp": ramp,
            "rate": rate,
            "fanout": fanout,
            "ordinary_timeout": ordinary_timeout,
            "loadgen_nofile": fds,
        },
        "cells": cells,
    }


def _per(cell: dict, service: str) -> str:
    per = (cell["streams"]["per_stream"] or {}).get(service)
    if not per:
        return "-"
    return f"{per['threads']:.2f} thr, {per['rss_bytes'] / 1024:.0f} KiB"


def line(cell: dict) -> str:
    s, f = cell["streams"], cell["figures"]
    o = s["outcomes"]
    service = "gateway" if cell["view"] == "gateway" else "backend"
    return (
        f"{cell['view']:<7} x{cell['concurrency']:<5} held {s['held_peak']:>5} (gauge {s['gauge_peak']}), "
        f"completed {o['completed']}, waiting {o['waiting']}, refused {o['refused']}, cut {o['cut']}, "
        f"failed {o['failed']}; first event p50 {format_duration(s['first_event']['p50'])} "
        f"p99 {format_duration(s['first_event']['p99'])}; lag p50 {format_duration(s['lag']['p50'])} "
        f"p99 {format_duration(s['lag']['p99'])}; {service} per stream {_per(cell, service)}; "
        f"ordinary p99 {display.latency(f, 'p99')}, {display.errors(f)} errors of {f['requests']}; {_load(cell)}"
    )
