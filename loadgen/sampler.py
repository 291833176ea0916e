"""Polls the services' /telemetry while a scenario runs: threads, memory, CPU and in-flight
requests on the server side, recorded next to the latency the client saw.

Each poll reads a service's "recent" peaks (the last one to two seconds), so polling
every half second misses no peak in between.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import aiohttp

INTERVAL = 0.5


async def _fetch(session: aiohttp.ClientSession, url: str) -> dict | None:
    try:
        async with asyncio.timeout(2):
            async with session.get(url.rstrip("/") + "/telemetry") as response:
                if response.status != 200:
                    return None
                body = await response.json(content_type=None)
                return body.get("total") if isinstance(body, dict) else None
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None


def summarise(samples: list[dict]) -> dict | None:
    """One service's figures over a scenario, from its /telemetry totals in time order."""
    if len(samples) < 2:
        return None
    first, last = samples[0], samples[-1]
    cpu = last["cpu_seconds"] - first["cpu_seconds"]
    requests = last["requests"] - first["requests"]
    lags = [s["loop_lag_ms"]["recent_max"] for s in samples if s.get("loop_lag_ms")]
    # Services from before the collector was published have no "gc".
    gc_seconds = last["gc"]["seconds"] - first["gc"]["seconds"] if last.get("gc") and first.get("gc") else None
    return {
        "samples": len(samples),
        "processes": last["processes"],
        "workers": last["workers"],
        "threads_peak": max(s["threads"]["recent_peak"] for s in samples),
        "threads_idle": first["threads"]["now"],
        "rss_peak_bytes": max(s["rss_bytes"]["recent_peak"] for s in samples),
        "rss_idle_bytes": first["rss_bytes"]["now"],
        "in_flight_peak": max(s["in_flight"]["recent_peak"] for s in samples),
        "in_flight_after": last["in_flight"]["now"],
        "cpu_seconds": round(cpu, 4),
        "requests": requests,
        "cpu_ms_per_request": round(1000 * cpu / requests, 3) if requests > 0 else None,
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

    def __init__(self, services: dict[str, str], interval: float = INTERVAL) -> None:
        self.services = services
        self.interval = interval
        self.samples: dict[str, list[dict]] = {name: [] for name in services}

    async def poll(self) -> None:
        results = await asyncio.gather(*(_fetch(self._session, url) for url in self.services.values()))
        now = time.perf_counter()
        for name, total in zip(self.services, results, strict=True):
            if total is not None:
                total["at"] = now  # loadgen's clock, to line samples up with requests
                self.samples[name].append(total)

    async def finish(self) -> None:
        # After the last answer, the workers need one publishing interval to settle.
        await asyncio.sleep(0.3)
        await self.poll()

    def summary(self) -> dict[str, dict | None]:
        return {name: summarise(samples) for name, samples in self.samples.items()}
