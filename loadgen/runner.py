"""The load engine: closed loop (-c workers) or open loop (--rate), on one aiohttp session.

Rules that keep the numbers honest:
- a warm-up phase runs first and is thrown away;
- a response is never dropped for being slow: requests sent inside the window are awaited
  up to the timeout (default 60 s) and a request that outlives it counts as a timeout;
- open loop measures from the intended send time (coordinated omission corrected) and
  keeps the uncorrected figure beside it;
- the engine's own CPU is measured, so a result where loadgen was the bottleneck says so;
- so is the machine's (steal and busy share over the window), for a neighbour or a
  hypervisor that took the cores.

With Plan.workers > 1 the plan runs in that many processes (loadgen/workers.py): each runs
its Share of the workers, requests or send slots with the same loops here.

Over 300 lines on purpose: both loops share one Tally and one window rule, and split
apart they would have to agree on them across files.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import secrets
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

from asynclab import requestid, timing

from . import machine
from .breakdown import Breakdown
from .stats import Recorder, corrected, littles_law
from .units import format_duration

# A single-threaded event loop: above this share of one core the client, not the server,
# sets the pace.
SATURATED_CPU = 0.85
# How many of the slowest requests' ids a result keeps, to look up in the services' logs.
SLOWEST = 5


@dataclass(frozen=True)
class Plan:
    urls: tuple[str, ...]
    concurrency: int = 10
    rate: float | None = None  # requests/s: open loop when set
    duration: float | None = 10.0  # seconds of measurement (time-boxed)
    requests: int | None = None  # or a number of measured requests
    warmup: float = 0.0  # seconds, or requests when warmup_requests
    warmup_requests: bool = False
    timeout: float = 60.0
    max_inflight: int = 10_000  # open loop: bound on requests in flight
    # Closed loop: the window stretches to 3x the warm-up's latency, up to this (default
    # 6x duration), so a slow cell is not measured over a fraction of one request.
    max_duration: float | None = None
    timeline: bool = False  # keep every request's outcome over time (figures["timeline"])
    workers: int = 1  # loadgen processes sharing the load; 1 runs in this process

    @property
    def mode(self) -> str:
        return "open" if self.rate else "closed"


@dataclass(frozen=True)
class Share:
    """The part of a plan one of `of` processes runs: every `of`-th closed-loop worker,
    counted request and open-loop send slot from `index`. Interleaved rather than in
    blocks, so the processes together keep one process's ramp-up and send schedule."""

    index: int = 0
    of: int = 1

    def indices(self, total: int) -> range:
        return range(self.index, total, self.of)

    def part(self, total: int) -> int:
        return len(self.indices(total))

    def requests(self, count: int, concurrency: int) -> int:
        """This share of `count` requests dealt in turn to `concurrency` workers: in
        proportion to its workers, so every process's window ends at about the same time."""
        return sum(len(range(worker, count, concurrency)) for worker in self.indices(concurrency))


@dataclass
class Tally:
    """What one phase produced."""

    latency: Recorder = field(default_factory=Recorder)
    uncorrected: Recorder = field(default_factory=Recorder)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    partial: int = 0
    sent: int = 0
    done_in_window: int = 0
    started: float = 0.0  # the measurement window: [started, window_end]
    window_end: float = float("inf")
    last_done: float = 0.0
    # Requests sent before `measure_from` are warm-up: not in the figures, but their
    # completions inside the window still count toward throughput (steady state).
    measure_from: float = float("-inf")
    warm: Recorder = field(default_factory=Recorder)
    warm_done: int = 0
    breakdown: Breakdown = field(default_factory=Breakdown)
    slowest: list = field(default_factory=list)  # min-heap of (latency, request id, status)
    # Every request carries an id "lg-<run>-<n>" that the services log.
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))
    # When kept: (intended send, latency, outcome) of every measured request, for experiments
    # that need the run over time (faults); outcome is "ok", "partial", an HTTP status or an error.
    timeline: list | None = None
    # The machine's CPU times as the window opened and closed.
    cpu_start: machine.CpuTimes | None = None
    cpu_end: machine.CpuTimes | None = None
    _ids: itertools.count = field(default_factory=itertools.count)

    def next_id(self) -> str:
        return f"lg-{self.run_id}-{next(self._ids)}"

    def add(
        self,
        intended: float,
        sent: float,
        done: float,
        status: int | None,
        error: str | None,
        partial: bool,
        request_id: str = "",
        server_timing: str | None = None,
    ) -> None:
        if not error and self.started <= done <= self.window_end:
            self.done_in_window += 1
        if intended < self.measure_from:
            self.warm_done += 1
            if not error:
                self.warm.record(done - sent)
            return
        latency, raw = corrected(intended, sent, done)
        entry = (latency, request_id, error or status)
        if len(self.slowest) < SLOWEST:
            heapq.heappush(self.slowest, entry)
        elif latency > self.slowest[0][0]:
            heapq.heapreplace(self.slowest, entry)
        if self.timeline is not None:
            outcome = error or ("partial" if partial else "ok" if status == 200 else str(status))
            self.timeline.append((intended, latency, outcome))
        if error:
            self.errors[error] += 1
            return
        if status == 200 and server_timing:
            # Server time against the time on the wire, so the uncorrected latency.
            self.breakdown.add(raw, timing.parse(server_timing))
        self.latency.record(latency)
        self.uncorrected.record(raw)
        self.statuses[str(status)] += 1
        self.partial += partial
        self.last_done = max(self.last_done, done)


class Progress:
    """One live line on a terminal (requests, req/s, p50/p99 so far); silent otherwise."""

    def __init__(self, label: str, enabled: bool | None = None) -> None:
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled

    async def run(self, tally: Tally) -> None:
        if not self.enabled:
            return
        begin = time.perf_counter()
        while True:
            await asyncio.sleep(1)
            elapsed = max(time.perf_counter() - max(begin, tally.started), 1e-9)
            count = tally.latency.count
            sys.stderr.write(
                f"\r{self.label}: {count} done, {count / elapsed:.1f} req/s, "
                f"p50 {format_duration(tally.latency.percentile(50))}, "
                f"p99 {format_duration(tally.latency.percentile(99))}, "
                f"{sum(tally.errors.values())} errors   "
            )
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


async def _request(session: aiohttp.ClientSession, url: str, intended: float, tally: Tally, timeout: float) -> None:
    request_id = tally.next_id()
    sent = time.perf_counter()
    status = error = server_timing = None
    partial = False
    try:
        async with asyncio.timeout(timeout):
            async with session.get(url, headers={requestid.HEADER: request_id}) as response:
                await response.read()
                status = response.status
                partial = response.headers.get("X-Aggregation-Errors", "0") != "0"
                server_timing = response.headers.get(timing.HEADER)
    except TimeoutError:
        error = "timeout"
    except aiohttp.ClientConnectionError as exc:
        error = "connect" if isinstance(exc, aiohttp.ClientConnectorError) else "disconnect"
    except aiohttp.ClientError as exc:
        error = type(exc).__name__
    tally.add(intended, sent, time.perf_counter(), status, error, partial, request_id, server_timing)


async def _closed_count(session, plan: Plan, tally: Tally, count: int, share: Share) -> None:
    """Exactly `count` requests from `concurrency` workers; the window ends at the last answer."""
    urls = itertools.cycle(plan.urls)
    tickets = itertools.count()
    mine = share.requests(count, plan.concurrency)
    tally.started = tally.measure_from = time.perf_counter()

    async def worker() -> None:
        while next(tickets) < mine:
            tally.sent += 1
            await _request(session, next(urls), time.perf_counter(), tally, plan.timeout)

    await asyncio.gather(*(worker() for _ in share.indices(plan.concurrency)))
    tally.window_end = tally.last_done or time.perf_counter()
    tally.done_in_window = tally.latency.count


async def _closed_timed(session, plan: Plan, tally: Tally, warmup: float, duration: float, share: Share) -> None:
    """One continuous run: warm up, then measure a window, with the workers never pausing,
    so the window starts in steady state (a fresh start would under-count throughput by
    about latency/window and break Little's law)."""
    urls = itertools.cycle(plan.urls)
    workers = share.indices(plan.concurrency)
    begin = time.perf_counter()
    if warmup:
        tally.measure_from = tally.started = float("inf")
    else:
        tally.measure_from = tally.started = begin
        tally.window_end = begin + duration

    async def worker(index: int) -> None:
        # Ramp up over the warm-up: workers that start together stay in lock-step against
        # a steady server, and their bursts of answers make any window's count lumpy.
        await asyncio.sleep(index * warmup / plan.concurrency)
        while (now := time.perf_counter()) < tally.window_end:
            if now >= tally.measure_from:
                tally.sent += 1
            await _request(session, next(urls), now, tally, plan.timeout)

    async def open_window() -> None:
        await asyncio.sleep(warmup)
        # Steady state: on average every worker has finished a request.
        while tally.warm_done < len(workers) and time.perf_counter() - begin < warmup + plan.timeout:
            await asyncio.sleep(0.05)
        now = time.perf_counter()
        estimate = tally.warm.summary()["mean"] or 0.0
        longest = plan.max_duration or 6 * duration
        tally.started = tally.measure_from = now
        tally.window_end = now + max(duration, min(longest, 3 * estimate))

    await asyncio.gather(*(worker(i) for i in workers), *([open_window()] if warmup else []))


async def _open(session, plan: Plan, tally: Tally, warmup: float, duration: float, share: Share) -> None:
    """Requests on a fixed schedule (warm-up included), however slowly they come back."""
    urls = itertools.cycle(plan.urls)
    interval = 1.0 / plan.rate
    total = max(1, round(plan.rate * (warmup + duration)))
    slots = asyncio.Semaphore(max(1, share.part(plan.max_inflight)))
    tasks: set[asyncio.Task] = set()
    begin = time.perf_counter()
    tally.started = tally.measure_from = begin + warmup
    tally.window_end = tally.started + duration

    async def one(url: str, intended: float) -> None:
        try:
            await _request(session, url, intended, tally, plan.timeout)
        finally:
            slots.release()

    for i in share.indices(total):
        intended = begin + i * interval
        wait = intended - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        # Over max_inflight the send waits, but its latency still counts from `intended`.
        await slots.acquire()
        if intended >= tally.measure_from:
            tally.sent += 1
        task = asyncio.create_task(one(next(urls), intended))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)


async def _watch_machine(tally: Tally) -> None:
    """Read the machine's CPU times as the window opens and as it closes. The loops set
    both ends before their first await, often in the future; a closed loop's stay unknown
    (infinite) until its warm-up settles, so those are polled."""
    while (wait := tally.started - time.perf_counter()) > 0:
        await asyncio.sleep(min(wait, 0.02))
    tally.cpu_start = machine.cpu_times()
    while (wait := tally.window_end - time.perf_counter()) > 0:
        await asyncio.sleep(min(wait, 0.02))
    tally.cpu_end = machine.cpu_times()


async def _measured(session, plan: Plan, warmup: float, progress: Progress | None, share: Share, run_id=None) -> Tally:
    tally = Tally(timeline=[] if plan.timeline else None, **({"run_id": run_id} if run_id else {}))
    ticker = asyncio.create_task(progress.run(tally)) if progress else None
    watcher = asyncio.create_task(_watch_machine(tally))
    try:
        if plan.rate:
            duration = plan.duration if plan.requests is None else plan.requests / plan.rate
            await _open(session, plan, tally, warmup, duration, share)
        elif plan.requests is not None:
            await _closed_count(session, plan, tally, plan.requests, share)
        else:
            await _closed_timed(session, plan, tally, warmup, plan.duration, share)
    finally:
        watcher.cancel()
        if ticker:
            ticker.cancel()
            progress.close()
    if tally.cpu_end is None:
        # A counted run's window ends at its last answer, known only now.
        tally.cpu_end = machine.cpu_times()
    return tally


async def run(plan: Plan, label: str = "run", progress: bool | None = None) -> dict:
    """Warm up, measure, and return every figure of the measured requests."""
    from . import replicas, workers  # they import this module

    pool = replicas.active()
    if pool is not None:
        return await pool.run(plan, label, progress)
    if plan.workers > 1:
        return await workers.run(plan, label, progress)
    tally, cpu, wall = await measure(plan, label, progress)
    return figures(plan, tally, cpu, wall)


async def measure(
    plan: Plan,
    label: str,
    progress: bool | None,
    share: Share = Share(),
    ready=None,
    run_id: str | None = None,
    guard: aiohttp.TraceConfig | None = None,
) -> tuple[Tally, float, float]:
    """Run this process's share of the plan: (tally, CPU seconds, wall seconds) of the
    measured phase. `ready`, awaited once the session is up and before any request (the
    warm-up included), holds the start until every process has come that far. `guard`: a
    replica's trace that stops a redirect to a host it may not load (loadgen/targets.py)."""
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
    traces = [guard] if guard is not None else None
    # No total timeout on the session: each request has its own (plan.timeout).
    timeout = aiohttp.ClientTimeout(total=None)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, trace_configs=traces) as session:
        if ready is not None:
            await ready()
        warmup = plan.warmup
        if plan.warmup and (plan.warmup_requests or plan.requests is not None):
            # Counted runs warm up beforehand: a separate pass of requests, or of time.
            separate = Plan(
                **{
                    **plan.__dict__,
                    "rate": None,
                    "warmup": 0,
                    "requests": int(plan.warmup) if plan.warmup_requests else None,
                    "duration": None if plan.warmup_requests else plan.warmup,
                }
            )
            await _measured(session, separate, 0, None, share)
            warmup = 0
        cpu0, wall0 = time.process_time(), time.perf_counter()
        tally = await _measured(session, plan, warmup, Progress(label, progress), share, run_id)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return tally, cpu, wall


def figures(plan: Plan, tally: Tally, cpu: float, wall: float, processes: list[dict] | None = None) -> dict:
    """Every figure of a tally. `processes` (several loadgen processes, their tallies merged
    into this one): each one's own rps, send rate, CPU and wall seconds; throughput is then
    their sum, each over its own window, as those windows are nearly the same one."""
    window = max(tally.window_end - tally.started, 1e-9)
    errors = sum(tally.errors.values())
    requests = tally.latency.count + errors
    # CPU covers the warm-up of a continuous run too, so share it over every request sent.
    handled = requests + tally.warm_done
    latency = tally.latency.summary()
    result = {
        "requests": requests,
        "ok": tally.statuses.get("200", 0),
        "errors": errors,
        "timeouts": tally.errors.get("timeout", 0),
        "error_rate": errors / requests if requests else 0.0,
        "partial": tally.partial,
        "statuses": dict(tally.statuses),
        "error_kinds": dict(tally.errors),
        "window": window,
        "rps": sum(p["rps"] for p in processes) if processes else tally.done_in_window / window,
        "latency": latency,
        # The whole distribution, not only the summary's percentiles: any HdrHistogram tool can
        # decode it, add it to another run's, or read any percentile (the report's percentile plots).
        "histogram": tally.latency.saved(),
        "breakdown": tally.breakdown.summary(),
        # Slowest first: `docker compose logs gateway backend | grep <id>` shows where each went.
        "slowest": [
            {"request_id": rid, "latency": lat, "status": st} for lat, rid, st in sorted(tally.slowest, reverse=True)
        ],
        "loadgen": {
            "cpu_seconds": cpu,
            "wall_seconds": wall,
            # With several processes, in cores (the sum of their shares of one).
            "cpu_share": cpu / wall if wall else 0.0,
            "cpu_ms_per_1000": 1e6 * cpu / handled if handled else None,
            "workers": len(processes) if processes else 1,
        },
        "machine": machine.shares(tally.cpu_start, tally.cpu_end),
    }
    loadgen = result["loadgen"]
    if processes:
        loadgen["processes"] = processes
        # Each process has one event loop on one core: it is the busiest that sets the pace.
        loadgen["busiest_share"] = max(p["cpu_share"] for p in processes)
    else:
        loadgen["busiest_share"] = loadgen["cpu_share"]
    loadgen["saturated"] = loadgen["busiest_share"] >= SATURATED_CPU
    if plan.rate:
        achieved = sum(p["sent_rate"] for p in processes) if processes else tally.sent / window
        result["rate"] = {"target": plan.rate, "achieved": achieved}
        result["latency_uncorrected"] = tally.uncorrected.summary()
        result["histogram_uncorrected"] = tally.uncorrected.saved()
    else:
        result["littles_law"] = littles_law(plan.concurrency, result["rps"], latency["mean"])
    if tally.timeline is not None:
        start = tally.started
        result["timeline"] = [
            (round(t - start, 4), round(lat, 6), outcome) for t, lat, outcome in sorted(tally.timeline)
        ]
    # Flat names for --fail-if and tables: p50, p99, ... alongside the counts.
    result.update({name: value for name, value in latency.items() if name != "count"})
    return result
