"""Several loadgen processes on one plan, for when one event loop is the bottleneck.

Each process runs its runner.Share of the plan with runner's own loops, on one event loop.
They are spawned (fresh interpreters): forking a process that has a running event loop
and threads is not safe. All of them open their sessions, wait at a barrier, and start
together at one agreed time, so none warms up or measures while the others are still
starting. Each sends back its tally, histograms in HdrHistogram's own encoding; the parent
adds them into one tally and computes the figures once, as for a single process, so a
merged percentile is exact and never an average of percentiles.
"""

from __future__ import annotations

import asyncio
import heapq
import multiprocessing
import queue
import secrets
import threading
import time
from dataclasses import replace

from . import machine, runner
from .stats import Recorder

SPAWN = multiprocessing.get_context("spawn")
# Time for a fresh interpreter to import loadgen and open its session, on a busy machine.
READY_TIMEOUT = 120.0
# From the barrier to the start: long enough for every process to read the start time.
START_MARGIN = 0.05


def processes_for(plan: runner.Plan) -> int:
    """How many processes get a share: no more than there are closed-loop workers or
    counted requests to share out."""
    count = plan.workers
    if not plan.rate:
        count = min(count, plan.concurrency, plan.requests or count)
    return max(1, count)


async def run(plan: runner.Plan, label: str = "run", progress: bool | None = None) -> dict:
    count = processes_for(plan)
    if count == 1:
        return await runner.run(replace(plan, workers=1), label, progress)
    # Off the event loop: the parent's loop keeps sampling the services meanwhile.
    parts = await asyncio.to_thread(_run_processes, plan, count)
    return figures(plan, parts)


def figures(plan: runner.Plan, parts: list[dict]) -> dict:
    """The figures of the processes' snapshots, merged."""
    processes = [_process(part) for part in parts]
    cpu = sum(part["cpu"] for part in parts)
    wall = max(part["wall"] for part in parts)
    return runner.figures(plan, merge(parts), cpu, wall, processes=processes)


def snapshot(tally: runner.Tally, cpu: float, wall: float) -> dict:
    """What a process sends back: its tally in picklable form, with its CPU and wall time."""
    return {
        "latency": tally.latency.encode(),
        "uncorrected": tally.uncorrected.encode(),
        "statuses": dict(tally.statuses),
        "errors": dict(tally.errors),
        "partial": tally.partial,
        "sent": tally.sent,
        "done_in_window": tally.done_in_window,
        "started": tally.started,
        "window_end": tally.window_end,
        "last_done": tally.last_done,
        "warm_done": tally.warm_done,
        "breakdown": {"count": tally.breakdown.count, "latency": tally.breakdown.latency, "sums": tally.breakdown.sums},
        "slowest": list(tally.slowest),
        "timeline": tally.timeline,
        "cpu_start": tuple(tally.cpu_start) if tally.cpu_start else None,
        "cpu_end": tuple(tally.cpu_end) if tally.cpu_end else None,
        "cpu": cpu,
        "wall": wall,
    }


def merge(parts: list[dict]) -> runner.Tally:
    """One tally of several processes' snapshots: histograms added, counts summed, the
    window spanning all of theirs, the slowest requests of them all."""
    tally = runner.Tally()
    for part in parts:
        tally.latency.add(Recorder.decode(part["latency"]))
        tally.uncorrected.add(Recorder.decode(part["uncorrected"]))
        tally.statuses.update(part["statuses"])
        tally.errors.update(part["errors"])
        tally.partial += part["partial"]
        tally.sent += part["sent"]
        tally.done_in_window += part["done_in_window"]
        tally.last_done = max(tally.last_done, part["last_done"])
        tally.warm_done += part["warm_done"]
        # Sums and counts, so the merged means are the parts' weighted by their requests.
        tally.breakdown.count += part["breakdown"]["count"]
        tally.breakdown.latency += part["breakdown"]["latency"]
        for name, value in part["breakdown"]["sums"].items():
            tally.breakdown.sums[name] += value
        if part["timeline"] is not None:
            tally.timeline = (tally.timeline or []) + part["timeline"]
    tally.slowest = heapq.nlargest(runner.SLOWEST, (entry for part in parts for entry in part["slowest"]))
    first = min(parts, key=lambda part: part["started"])
    last = max(parts, key=lambda part: part["window_end"])
    tally.started, tally.window_end = first["started"], last["window_end"]
    # /proc/stat is the machine's, whichever process read it: the earliest opening and the
    # latest closing reading span every process's window. Replicas on other nodes read
    # other machines: only the first one's node's readings are put together.
    node = first.get("node")
    here = [part for part in parts if part.get("node") == node]
    opening = min(here, key=lambda part: part["started"])
    closing = max(here, key=lambda part: part["window_end"])
    tally.cpu_start = machine.CpuTimes(*opening["cpu_start"]) if opening["cpu_start"] else None
    tally.cpu_end = machine.CpuTimes(*closing["cpu_end"]) if closing["cpu_end"] else None
    return tally


def _process(part: dict) -> dict:
    """One process's own figures, beside the merged ones."""
    window = max(part["window_end"] - part["started"], 1e-9)
    share = part["cpu"] / part["wall"] if part["wall"] else 0.0
    latency = Recorder.decode(part["latency"])
    # A replica (replicas.py) says where it ran; a local process is on loadgen's own machine.
    where = {name: part[name] for name in ("node", "host", "slot") if part.get(name) is not None}
    return {
        **where,
        "requests": latency.count + sum(part["errors"].values()),
        "window": window,
        "rps": part["done_in_window"] / window,
        "sent_rate": part["sent"] / window,
        "cpu_seconds": part["cpu"],
        "wall_seconds": part["wall"],
        "cpu_share": share,
        "saturated": share >= runner.SATURATED_CPU,
        # Its own histogram, so anyone can check the merged one is exactly their sum.
        "histogram": latency.saved(),
    }


def _run_processes(plan: runner.Plan, count: int) -> list[dict]:
    barrier = SPAWN.Barrier(count + 1)
    go = SPAWN.Event()
    start = SPAWN.Value("d", 0.0)
    results = SPAWN.Queue()
    run_id = secrets.token_hex(3)
    processes = [
        SPAWN.Process(
            target=_child,
            args=(plan, runner.Share(i, count), f"{run_id}w{i}", barrier, go, start, results),
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
