"""Polls the services' /telemetry while a scenario runs: threads, memory, CPU and in-flight
requests on the server side, recorded next to the latency the client saw.

Each poll reads a service's "recent" peaks (the last one to two seconds), so polling
every quarter second misses no peak in between; counters (CPU, requests, GC) are read at
the measurement window's two ends, between the polls around each, so a service's CPU is
divided by the same seconds as loadgen's throughput and the machine's busy share.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import aiohttp

from . import engine_meter

# The services publish each worker's figures every 0.25 s (asynclab/telemetry.py).
INTERVAL = 0.25
# A poll waits up to POLL_TIMEOUT for its answer: a wsgi service answers /telemetry from the
# same thread pool as its requests, so under load the poll queues behind them. Each answer
# is stamped with the service's own monotonic clock when it read its counters (the host's
# and every container's, loadgen's too), so a late answer is still a reading at a known time.
POLL_TIMEOUT = 15.0
# Readings further apart than REACH around a window's end mean the service did not answer
# then (its queue longer than that): no reading there. Nearer than NEAR, one stands for it.
REACH = 10.0
NEAR = 2 * INTERVAL


async def _fetch(session: aiohttp.ClientSession, url: str) -> dict | None:
    """The service's /telemetry total, stamped "at" on loadgen's clock: the service's own
    stamp where it falls between the poll's send and its answer (the same clock: the same
    kernel), else the answer's arrival (a service on another machine)."""
    sent = time.perf_counter()
    try:
        async with asyncio.timeout(POLL_TIMEOUT):
            async with session.get(url.rstrip("/") + "/telemetry") as response:
                if response.status != 200:
                    return None
                body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None
    total = body.get("total") if isinstance(body, dict) else None
    if not isinstance(total, dict):
        return None
    received = time.perf_counter()
    stamp = total.get("monotonic")
    total["at"] = stamp if isinstance(stamp, int | float) and sent <= stamp <= received else received
    return total


def value_at(samples: list[dict], read, when: float) -> float | None:
    """A cumulative counter (CPU seconds, requests) at `when`, straight between the two
    samples around it, or the nearest sample's within NEAR of it (a window's end just past
    the last poll). None where the polls around `when` are further apart than REACH: a
    service that did not answer its telemetry then (overloaded) has no reading there, and a
    clamped one would read its CPU as zero (the lab's own work passing for a neighbour's)."""
    points = [(s["at"], read(s)) for s in samples if read(s) is not None]
    before = [p for p in points if p[0] <= when]
    after = [p for p in points if p[0] >= when]
    if before and after and after[0][0] - before[-1][0] <= REACH:
        (t0, v0), (t1, v1) = before[-1], after[0]
        return v0 if t1 == t0 else v0 + (v1 - v0) * (when - t0) / (t1 - t0)
    near = [p for p in points if abs(p[0] - when) <= NEAR]
    return min(near, key=lambda p: abs(p[0] - when))[1] if near else None


def _cpu(sample: dict) -> float | None:
    return sample.get("cpu_seconds")


def _gc(sample: dict) -> float | None:
    return (sample.get("gc") or {}).get("seconds")


def bracket(samples: list[dict], start: float, end: float) -> tuple[float, float]:
    """The last poll at or before `start` and the first at or after `end` (clamped)."""
    before = [s["at"] for s in samples if s["at"] <= start]
    after = [s["at"] for s in samples if s["at"] >= end]
    return (before[-1] if before else samples[0]["at"]), (after[0] if after else samples[-1]["at"])


def summarise(samples: list[dict], window: tuple[float, float] | None = None, whole: bool = False) -> dict | None:
    """One service's figures from its /telemetry totals in time order. With `window` (the
    measurement's [start, end] on loadgen's clock) every figure is over that window: the
    counters read at its two ends, straight between the polls around each (a steady load's
    rate does not change there), the peaks from the polls inside it; without, over all the
    samples (first to last). `whole`: the window is the whole run (a counted run: nothing
    is sent before or after it), so the counters come from the polls bracketing it, which
    hold every request of it where a straight line would cut the last ones off."""
    if len(samples) < 2:
        return None
    first, last = samples[0], samples[-1]
    start, end = window if window else (first["at"], last["at"])
    if whole:
        start, end = bracket(samples, start, end)
    inside = [s for s in samples if start <= s["at"] <= end + INTERVAL] or [
        min(samples, key=lambda s: abs(s["at"] - end))
    ]

    def over(read) -> float | None:
        a, b = value_at(samples, read, start), value_at(samples, read, end)
        return None if a is None or b is None else b - a

    cpu = over(_cpu)
    container = over(lambda s: s.get("container_cpu_seconds"))
    requests = over(lambda s: s["requests"])
    lags = [s["loop_lag_ms"]["recent_max"] for s in inside if s.get("loop_lag_ms")]
    # Services from before the collector was published have no "gc".
    gc_seconds = over(_gc) if _gc(first) is not None and _gc(last) is not None else None
    return {
        "samples": len(inside),
        # The span the counters were read over, and whether polls bracket it (else clamped).
        "window": round(end - start, 4),
        "bracketed": first["at"] <= start and last["at"] >= end,
        # No reading at an end of the window: the service did not answer its telemetry then.
        "silent": cpu is None and _cpu(first) is not None,
        "processes": last["processes"],
        "workers": last["workers"],
        "threads_peak": max(s["threads"]["recent_peak"] for s in inside),
        "threads_idle": first["threads"]["now"],
        "rss_peak_bytes": max(s["rss_bytes"]["recent_peak"] for s in inside),
        "rss_idle_bytes": first["rss_bytes"]["now"],
        "in_flight_peak": max(s["in_flight"]["recent_peak"] for s in inside),
        "in_flight_after": last["in_flight"]["now"],
        "cpu_seconds": None if cpu is None else round(cpu, 4),
        # Every process in the service's container (None: a service that does not report it).
        "container_cpu_seconds": None if container is None else round(container, 4),
        "requests": None if requests is None else round(requests, 1),
        "cpu_ms_per_request": round(1000 * cpu / requests, 3) if cpu is not None and requests else None,
        "loop_lag_max_ms": max(lags) if lags else None,
        # Typical, not worst: one GC pause or a slow first request lifts the peak only.
        "loop_lag_median_ms": statistics.median(lags) if lags else None,
        "gc_seconds": None if gc_seconds is None else round(gc_seconds, 4),
    }


class Poller:
    """Calls `poll()` every `interval` seconds inside `async with`, once on entry and (via
    `finish()`) once more on exit; subclasses say what a poll does and what finishing means."""

    interval = INTERVAL

    async def poll(self) -> None:
        raise NotImplementedError

    async def finish(self) -> None:
        await self.poll()

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await self.poll()
            await asyncio.sleep(max(0.0, self.interval - (time.perf_counter() - started)))

    async def __aenter__(self):
        self._session = aiohttp.ClientSession()
        await self.poll()
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        try:
            await self.finish()
        finally:
            await self._session.close()


class Sampler(Poller):
    """`async with Sampler({"gateway": url, ...}) as sampler:` ... `sampler.summary()`."""

    def __init__(self, services: dict[str, str], interval: float = INTERVAL, meter: Path | None = None) -> None:
        self.services = services
        self.interval = interval
        self.samples: dict[str, list[dict]] = {name: [] for name in services}
        # The engine's CPU for the lab, where a campaign meters it into `meter` (a folder).
        self.meter = meter
        self.engine: dict[float, dict] = {}
        # One poll in flight per service at a time: a service whose poll queues behind its
        # load neither stops the others' polls nor gets a second one queued.
        self._pending: dict[str, asyncio.Task] = {}

    async def _one(self, name: str, url: str) -> None:
        total = await _fetch(self._session, url)
        if total is not None:
            self.samples[name].append(total)

    async def poll(self) -> None:
        for name, url in self.services.items():
            if name not in self._pending or self._pending[name].done():
                self._pending[name] = asyncio.create_task(self._one(name, url))
        for sample in engine_meter.read(self.meter):
            self.engine[sample["at"]] = sample

    def engine_cpu(self, window: tuple[float, float]) -> float | None:
        """The engine's CPU seconds for the lab over `window`, or None unmetered."""
        samples = [self.engine[at] for at in sorted(self.engine)]
        a, b = (value_at(samples, lambda s: s["cpu_seconds"], when) for when in window)
        return None if a is None or b is None else round(b - a, 4)

    async def finish(self) -> None:
        # After the last answer, the workers need one publishing interval to settle; then
        # every poll still queued is let finish (each within POLL_TIMEOUT), and one more.
        await asyncio.sleep(0.3)
        try:
            await asyncio.gather(*self._pending.values())
            await self.poll()
            await asyncio.gather(*self._pending.values())
        finally:
            for task in self._pending.values():
                task.cancel()

    def summary(self, window: tuple[float, float] | None = None, whole: bool = False) -> dict[str, dict | None]:
        """Each service's figures, over `window` ([start, end] on loadgen's clock) if given."""
        return {name: summarise(samples, window, whole) for name, samples in self.samples.items()}
