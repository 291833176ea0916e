"""Several loadgen processes on one plan, for when one event loop is the bottleneck.

Each process runs its Share of the plan with runner's own loops, on one event loop.
They are spawned (fresh interpreters): forking a process that has a running event loop
and threads is not safe. All of them open their sessions, wait at a barrier, and start
together at one agreed time, so none warms up or measures while the others are still
starting. Each sends back its tally (tally.snapshot), histograms in HdrHistogram's own
encoding; the engine adds them into one tally and computes the figures once, as for a
single process, so a merged percentile is exact and never an average of percentiles.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import secrets
import threading
import time

from . import runner
from .plan import READY_TIMEOUT, START_MARGIN, Plan, Share
from .tally import snapshot

SPAWN = multiprocessing.get_context("spawn")


def run_processes(plan: Plan, count: int) -> list[dict]:
    """Run `plan` in `count` spawned processes, one Share each, and return their snapshots
    in share order. Blocking: call it off the event loop."""
    barrier = SPAWN.Barrier(count + 1)
    go = SPAWN.Event()
    start = SPAWN.Value("d", 0.0)
    results = SPAWN.Queue()
    run_id = secrets.token_hex(3)
    processes = [
        SPAWN.Process(
            target=_child,
            args=(plan, Share(i, count), f"{run_id}w{i}", barrier, go, start, results),
            name=f"loadgen-worker-{i}",
            daemon=True,
        )
        for i in range(count)
    ]
    for process in processes:
        process.start()
    parts: dict[int, dict] = {}
    try:
        try:
            barrier.wait(READY_TIMEOUT)
        except threading.BrokenBarrierError:
            _collect(results, parts, processes, count, wait=False)
            raise RuntimeError("loadgen workers did not all start") from None
        # perf_counter is the system's monotonic clock, the same in every process.
        start.value = time.perf_counter() + START_MARGIN
        go.set()
        _collect(results, parts, processes, count)
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
    return [parts[i] for i in range(count)]


def _collect(results, parts: dict, processes: list, count: int, wait: bool = True) -> None:
    """Every process's snapshot, raising on the first that failed or died without one."""
    while len(parts) < count:
        try:
            index, part = results.get(timeout=1.0 if wait else 0.1)
        except queue.Empty:
            if not wait:
                return
            # A process that died (killed, out of memory) sends nothing: do not wait forever.
            dead = [p for i, p in enumerate(processes) if i not in parts and p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"{dead[0].name} exited with status {dead[0].exitcode}") from None
            continue
        if "error" in part:
            raise RuntimeError(f"loadgen-worker-{index}: {part['error']}")
        parts[index] = part


def _child(plan, share, run_id, barrier, go, start, results) -> None:
    async def ready() -> None:
        # Blocking the loop is harmless here: nothing runs on it before the start.
        barrier.wait(READY_TIMEOUT)
        if not go.wait(READY_TIMEOUT):
            raise RuntimeError("no start from the parent")
        await asyncio.sleep(max(0.0, start.value - time.perf_counter()))

    try:
        tally, cpu, wall = asyncio.run(runner.measure(plan, "", False, share, ready, run_id))
        results.put((share.index, snapshot(tally, cpu, wall)))
    # Any end, Ctrl-C included: the parent must hear of it rather than wait.
    except BaseException as exc:
        barrier.abort()
        results.put((share.index, {"error": f"{type(exc).__name__}: {exc}"}))
