"""The client side of a server-sent event stream: one stream held open and read to its end
(or cut), what each stream did (the Tally of outcomes, first events and event lag), and the
serving process's own count of streams held (the Gauge it is polled for)."""

from __future__ import annotations

import asyncio
import json
import resource
import time
from collections import Counter

import aiohttp

from asynclab.api import STREAMS_GAUGE

from .sampler import Poller
from .stats import Recorder

# Past the stream's own end: time for the last events and the summary to arrive.
GRACE = 5.0


# File descriptors loadgen keeps for itself beside one socket per stream.
SPARE_FDS = 200


def file_limit(needed: int) -> dict:
    """Raise loadgen's own open-file limit to its hard limit; say whether `needed` fits."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return {"soft": soft, "hard": hard, "needed": needed, "fits": needed <= soft}


class Tally:
    """Every stream of one cell, as the client saw it."""

    def __init__(self) -> None:
        self.outcomes: Counter = Counter()
        self.statuses: Counter = Counter()
        self.first = Recorder()  # connect to first event
        self.lag = Recorder()  # arrival minus due, per event
        self.events = 0
        self.disordered = 0
        self.open = self.open_peak = 0

    def opened(self) -> None:
        self.open += 1
        self.open_peak = max(self.open_peak, self.open)


async def one_stream(session, url: str, tally: Tally, until: float) -> None:
    start = time.perf_counter()
    first = False
    last = -1
    ended = False
    try:
        async with asyncio.timeout(max(0.0, until - start)):
            async with session.get(url) as response:
                if response.status != 200:
                    tally.statuses[str(response.status)] += 1
                    tally.outcomes["refused" if response.status == 503 else "failed"] += 1
                    await response.read()
                    return
                name = None
                async for raw in response.content:
                    line = raw.decode().rstrip("\r\n")
                    if line.startswith("event:"):
                        name = line[6:].strip()
                    elif line.startswith("data:"):
                        arrived = time.time()
                        data = json.loads(line[5:])
                        if not first:
                            first = True
                            tally.first.record(time.perf_counter() - start)
                            tally.opened()
                        if name in ("end", "summary"):
                            # Done as the client sees it, whether or not the server has closed yet.
                            ended = True
                            tally.open -= 1
                            continue
                        tally.events += 1
                        tally.lag.record(max(0.0, arrived - data.get("due", data["sent"])))
                        if data["seq"] <= last:
                            tally.disordered += 1
                        last = data["seq"]
        tally.outcomes["completed" if ended else "cut"] += 1
    except TimeoutError:
        tally.outcomes["cut" if first else "waiting"] += 1
    except aiohttp.ClientConnectorError:
        tally.outcomes["refused"] += 1
    except (aiohttp.ClientError, ValueError, KeyError):
        tally.outcomes["failed" if first else "refused"] += 1
    finally:
        if first and not ended:
            tally.open -= 1


class Gauge(Poller):
    """The service's own count of open streams (/streams), polled like /telemetry."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") + STREAMS_GAUGE
        self.seen: list[dict] = []

    async def poll(self) -> None:
        try:
            async with asyncio.timeout(2):
                async with self._session.get(self.url) as response:
                    if response.status == 200:
                        self.seen.append(await response.json(content_type=None))
        except (aiohttp.ClientError, TimeoutError, ValueError):
            pass

    def peak(self) -> int | None:
        return max((s["open"] for s in self.seen), default=None)


async def settle(url: str, timeout: float = 30.0) -> dict:
    """Wait for the service's streams to end after a cell: open streams left, and how long."""
    start = time.perf_counter()
    left = None
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() - start < timeout:
            try:
                async with asyncio.timeout(2):
                    async with session.get(url.rstrip("/") + STREAMS_GAUGE) as response:
                        left = (await response.json(content_type=None))["open"]
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError):
                left = None
            if left == 0:
                break
            await asyncio.sleep(0.5)
    return {"open": left, "waited": round(time.perf_counter() - start, 2)}


def per_stream(seen: dict | None, held: int) -> dict | None:
    """A service's threads and RSS above idle, per stream its server held open."""
    if not seen or not held:
        return None
    return {
        "threads": (seen["threads_peak"] - seen["threads_idle"]) / held,
        "rss_bytes": (seen["rss_peak_bytes"] - seen["rss_idle_bytes"]) / held,
    }


OUTCOMES = ("completed", "cut", "waiting", "refused", "failed")
