"""`slowclients`: K connections that send their request slowly, while ordinary requests are
timed on the same service.

Two shapes of slow client: `half` sends the first half of a request head and then nothing;
`trickle` sends its head a byte every `--every` seconds (padded so it never ends within the
cell). A thread-per-connection server gives each a thread while it waits for the rest of the
head; an event loop gives each a few kilobytes; a buffering proxy in front (EDGE=nginx)
reads heads itself and passes on only whole requests. Per cell: the ordinary requests'
latency and errors (an open loop, so a stalled server cannot hide), and what became of the
slow connections (closed by the server, and when; what it answered).

Bounded: each cell lasts `--hold` plus at most one ordinary timeout; every slow connection
is closed at its end.

Over 250 lines: the two shapes of slow client and the ordinary requests timed beside them
are one measurement.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from urllib.parse import urlencode, urlsplit

import aiohttp

from asynclab.api import BACKEND_VIEWS, STRATEGIES

from .. import display, probe
from ..lab import Lab
from ..options import arguments, choices, duration, levels, option, positive
from ..plan import Plan
from ..probe import environment
from ..stats import Recorder
from ..streaming import file_limit
from ..units import format_duration

HELP = "K slow connections (a byte at a time, or half a request) while ordinary requests are timed"
SHAPES = ("half", "trickle")
WHERE = ("gateway", "backend")
# Level 0 is the baseline: the same ordinary requests with no slow client.
BASELINE = 0


def options(parser) -> None:
    levels(parser, (40, 200))
    option(parser, "--shapes", env="LOADGEN_SHAPES", default=SHAPES, type=choices(SHAPES), help="slow-client shapes")
    option(parser, "--hold", env="LOADGEN_HOLD", default=10.0, type=duration, help="time the slow clients stay")
    option(
        parser,
        "--every",
        env="LOADGEN_EVERY",
        default=0.5,
        type=duration,
        help="trickle: seconds between two bytes of the request",
    )
    option(
        parser,
        "--rate",
        env="LOADGEN_RATE",
        default=5.0,
        type=positive(float, 1000),
        help="ordinary requests/s meanwhile (open loop)",
    )
    option(
        parser,
        "--where",
        env="LOADGEN_WHERE",
        default="gateway",
        choices=WHERE,
        help="the service the slow clients and the ordinary requests go to (--gateway may be a proxy in front)",
    )
    option(
        parser,
        "--ordinary-timeout",
        env="LOADGEN_ORDINARY_TIMEOUT",
        default=5.0,
        type=duration,
        dest="ordinary_timeout",
        help="timeout of each ordinary request",
    )


async def command(args, lab: Lab) -> dict:
    return await run(lab, **arguments(args, run))


def ordinary_url(base: str, where: str) -> str:
    if where == "gateway":
        return base.rstrip("/") + STRATEGIES["gather"] + "?" + urlencode({"n": 1, "delay": 0, "target": "async"})
    return base.rstrip("/") + BACKEND_VIEWS["sync"] + "?delay=0"


def head(url: str, shape: str) -> bytes:
    """The request a slow client sends (a trickle is padded past what it can send in a cell)."""
    parts = urlsplit(url)
    target = parts.path + ("?" + parts.query if parts.query else "")
    text = f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: asynclab-slowclient\r\n"
    if shape == "trickle":
        text += "X-Pad: " + "a" * 1000 + "\r\n"
    return (text + "\r\n").encode()


class Slow:
    """What became of one cell's slow connections."""

    def __init__(self) -> None:
        self.connected = 0
        self.refused = 0
        self.closed = Recorder()  # seconds from connect to the server's close
        self.answers: Counter = Counter()  # the status line the server sent, if any


async def slow_client(host: str, port: int, request: bytes, shape: str, every: float, until: float, slow: Slow):
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=5)
    except (OSError, TimeoutError):
        slow.refused += 1
        return
    slow.connected += 1
    opened = time.perf_counter()

    async def send() -> None:
        if shape == "half":
            writer.write(request[: len(request) // 2])
            await writer.drain()
            return
        for index in range(len(request)):
            writer.write(request[index : index + 1])
            await writer.drain()
            await asyncio.sleep(every)

    sender = asyncio.create_task(send())
    try:
        async with asyncio.timeout(max(0.0, until - time.perf_counter())):
            data = await reader.read(65536)  # b"": the server closed it
            slow.closed.record(time.perf_counter() - opened)
            if data.startswith(b"HTTP/"):
                slow.answers[data.split(b" ", 2)[1].decode(errors="replace")] += 1
    except TimeoutError:
        pass
    except OSError:
        slow.closed.record(time.perf_counter() - opened)
    finally:
        sender.cancel()
        try:
            await sender
        except (asyncio.CancelledError, OSError):
            pass
        writer.close()


async def front(url: str) -> str | None:
    """The Server header of whoever answers at `url`: nginx when EDGE=nginx is in front."""
    try:
        async with aiohttp.ClientSession() as session:
            async with asyncio.timeout(5):
                async with session.get(url.rstrip("/") + "/healthz") as response:
                    return response.headers.get("Server")
    except (aiohttp.ClientError, TimeoutError):
        return None


async def cell(
    lab: Lab, base: str, where: str, shape: str, level: int, hold: float, every: float, rate: float, timeout: float
):
    url = ordinary_url(base, where)
    parts = urlsplit(base)
    host, port = parts.hostname, parts.port or 80
    request = head(url, shape)
    slow = Slow()
    start = time.perf_counter()
    until = start + hold
    # The slow clients connect first (1 s), then the ordinary requests run while they stay.
    warmup = min(1.0, hold / 4)
    plan = Plan(urls=(url,), rate=rate, duration=hold - warmup, warmup=warmup, timeout=timeout)
    clients = [asyncio.create_task(slow_client(host, port, request, shape, every, until, slow)) for _ in range(level)]
    figures = await lab.engine.run(plan, label=f"slowclients {shape} x{level}", progress=False)
    await asyncio.gather(*clients)
    return {
        "shape": shape,
        "target": shape,
        "concurrency": level,
        "rate": rate,
        "url": url,
        "wall": round(time.perf_counter() - start, 2),
        "figures": figures,
        "slow": {
            "connected": slow.connected,
            "refused": slow.refused,
            "closed_by_server": slow.closed.count,
            "closed_after": slow.closed.summary(),
            "answers": dict(slow.answers),
        },
    }


async def run(
    lab: Lab,
    levels: tuple[int, ...] = (40, 200),
    shapes: tuple[str, ...] = SHAPES,
    hold: float = 10.0,
    every: float = 0.5,
    rate: float = 5.0,
    where: str = "gateway",
    ordinary_timeout: float = 5.0,
) -> dict:
    env = await environment(lab)
    base = lab.gateway if where == "gateway" else lab.backend
    server = await front(base)
    fds = file_limit(max(levels) + int(rate * ordinary_timeout) + 200)
    if not fds["fits"]:
        raise SystemExit(f"loadgen slowclients: needs about {fds['needed']} open files; loadgen may open {fds['soft']}")
    await probe.verify(ordinary_url(base, where), lab.timeout)
    cells = []
    for shape, level in [("none", BASELINE), *((shape, level) for level in levels for shape in shapes)]:
        if lab.drain:
            await probe.drain(
                [(lab.backend.rstrip("/") + "/api/?delay=0", probe.width(env.get("backend")))], timeout=60
            )
        found = await cell(lab, base, where, shape, level, hold, every, rate, ordinary_timeout)
        cells.append(found)
        if lab.progress is not False:
            print("  " + line(found), flush=True)
    edge = "nginx" if server and server.lower().startswith("nginx") else None
    return {
        "experiment": "slowclients",
        # Through a proxy the result is a set-up of its own (results/…-slowclients-nginx-wsgi.json).
        **({"variant": edge} if edge else {}),
        "environment": env,
        "scenario": {
            "levels": list(levels),
            "shapes": list(shapes),
            "hold": hold,
            "every": every,
            "rate": rate,
            "where": where,
            "front": server,
            "edge": edge,
            "ordinary_timeout": ordinary_timeout,
            "loadgen_nofile": fds,
        },
        "cells": cells,
    }


def line(cell: dict) -> str:
    f, s = cell["figures"], cell["slow"]
    return (
        f"{cell['shape']:<7} x{cell['concurrency']:<4} ordinary: {f['requests']} requests, {display.errors(f)} errors, "
        f"p50 {display.latency(f, 'p50')}, p99 {display.latency(f, 'p99')}; "
        f"slow: {s['connected']} connected, {s['closed_by_server']} closed by the server"
        + (f" (p50 after {format_duration(s['closed_after']['p50'])})" if s["closed_by_server"] else "")
        + (f", answers {s['answers']}" if s["answers"] else "")
    )
