"""The load loops: closed loop (-c workers) or open loop (--rate), on one aiohttp session,
for one process's Share of a Plan. Which processes run the shares (this one, local worker
processes, replicas elsewhere) is the engine's choice (loadgen/engine.py).

Rules that keep the numbers honest:
- a warm-up phase runs first and is thrown away;
- a response is never dropped for being slow: requests sent inside the window are awaited
  up to the timeout (default 60 s) and a request that outlives it counts as a timeout;
- open loop measures from the intended send time (coordinated omission corrected) and
  keeps the uncorrected figure beside it;
- everything per window is read at the window's two ends: the machine's CPU times
  (/proc/stat), this process's CPU, and the event loop's lateness in between, so a result
  where loadgen or a neighbour set the pace says so.
"""

from __future__ import annotations

import asyncio
import itertools
import time

import aiohttp

from asynclab import cpu, requestid, timing

from . import machine
from .plan import Plan, Share
from .progress import Progress
from .stopped import JOURNAL
from .tally import Tally

# How often the loop-lag probe wakes during the window.
LAG_TICK = 0.05


async def _request(session: aiohttp.ClientSession, url: str, intended: float, tally: Tally, timeout: float) -> None:
    request_id = tally.next_id()
    sent = time.perf_counter()
    status = error = server_timing = failures = None
    partial = False
    try:
        async with asyncio.timeout(timeout):
            async with session.get(url, headers={requestid.HEADER: request_id}) as response:
                await response.read()
                status = response.status
                partial = response.headers.get("X-Aggregation-Errors", "0") != "0"
                failures = response.headers.get("X-Aggregation-Failures")
                server_timing = response.headers.get(timing.HEADER)
    except TimeoutError:
        error = "timeout"
    except aiohttp.ClientConnectionError as exc:
        error = "connect" if isinstance(exc, aiohttp.ClientConnectorError) else "disconnect"
    except aiohttp.ClientError as exc:
        error = type(exc).__name__
    tally.add(intended, sent, time.perf_counter(), status, error, partial, request_id, server_timing, failures)


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
    tally.window_end = max(tally.last_done, tally.started) if tally.last_done else time.perf_counter()
    # Every counted request is measured, whenever it ended.
    tally.ok_in_window = tally.latency.count - tally.censored


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


async def _wait_until(when) -> None:
    """Until the clock passes when() (re-read: a closed loop's window ends are set late)."""
    while (wait := when() - time.perf_counter()) > 0:
        await asyncio.sleep(min(wait, 0.02))


def _open_edge(tally: Tally) -> None:
    tally.cpu_start, tally.own_cpu_start = machine.cpu_times(), time.process_time()
    tally.container_cpu_start = cpu.container_seconds()


def _close_edge(tally: Tally) -> None:
    tally.cpu_end, tally.own_cpu_end = machine.cpu_times(), time.process_time()
    tally.container_cpu_end = cpu.container_seconds()


async def _watch_window(tally: Tally) -> None:
    """Read both ends of the window (the loops set them before their first await, often in
    the future; a closed loop's stay unknown, infinite, until its warm-up settles) and,
    between them, how late this event loop wakes: a loop that is late sends late and
    reads answers late."""
    await _wait_until(lambda: tally.started)
    _open_edge(tally)
    while (now := time.perf_counter()) < tally.window_end:
        expected = now + LAG_TICK
        await asyncio.sleep(LAG_TICK)
        tally.lag.record(max(0.0, time.perf_counter() - expected))
    _close_edge(tally)


def _tally(plan: Plan, run_id: str | None = None) -> Tally:
    return Tally(timeline=[] if plan.timeline else None, **({"run_id": run_id} if run_id else {}))


async def _measured(
    session, plan: Plan, warmup: float, progress: Progress | None, share: Share, tally: Tally | None = None
) -> Tally:
    tally = tally or _tally(plan)
    ticker = asyncio.create_task(progress.run(tally)) if progress else None
    watcher = asyncio.create_task(_watch_window(tally))
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
    if tally.own_cpu_start is None:
        _open_edge(tally)
    if tally.own_cpu_end is None:
        # A counted run's window ends at its last answer, known only now.
        _close_edge(tally)
    return tally


async def measure(
    plan: Plan,
    label: str,
    progress: bool | None,
    share: Share | None = None,
    ready=None,
    run_id: str | None = None,
    guard: aiohttp.TraceConfig | None = None,
) -> tuple[Tally, float, float]:
    """Run this process's share of the plan: (tally, CPU seconds, wall seconds) of the
    measured phase. `ready`, awaited once the session is up and before any request (the
    warm-up included), holds the start until every process has come that far. `guard`: a
    replica's trace that stops a redirect to a host it may not load (loadgen/targets.py)."""
    share = share or Share()
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
    traces = [guard] if guard is not None else None
    # No total timeout on the session: each request has its own (plan.timeout).
    timeout = aiohttp.ClientTimeout(total=None)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, trace_configs=traces) as session:
        # aiohttp has no public switch for it; its own test client sets the same attribute.
        session._retry_connection = plan.retry
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
        tally = _tally(plan, run_id)
        # A stop by signal (loadgen/stopped.py) keeps this tally's figures as they stand.
        with JOURNAL.measuring(label, plan, tally, cpu0, wall0):
            await _measured(session, plan, warmup, Progress(label, progress), share, tally)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return tally, cpu, wall
