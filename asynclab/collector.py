"""Time this process spends in Python's garbage collector, from `gc.callbacks`.

A full collection stops every thread of the process (and the event loop with them), so a
run that happens to hit more of them is slower: /telemetry publishes the cumulative time
and count, and loadgen sets their growth over a run beside the run's deviation.
"""

from __future__ import annotations

import gc
import time


class Collector:
    """Cumulative seconds and collections per generation since `install()`."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = [0, 0, 0]
        self._started: float | None = None

    def __call__(self, phase: str, info: dict) -> None:
        # No lock, on purpose: a collection can start in any thread at any allocation,
        # including one made while that thread holds a lock the callback would want, which
        # deadlocks the process. None is needed: gc runs the callbacks with the GIL held,
        # one collection at a time.
        if phase == "start":
            self._started = time.perf_counter()
        elif phase == "stop" and self._started is not None:
            self.seconds += time.perf_counter() - self._started
            generation = info.get("generation", 0)
            if 0 <= generation < len(self.collections):
                self.collections[generation] += 1
            self._started = None

    def snapshot(self) -> dict:
        # A collection between the two reads can skew them by one: harmless for a counter.
        return {"seconds": round(self.seconds, 6), "collections": list(self.collections)}


_installed: dict[int, Collector] = {}


def install(pid: int) -> Collector:
    """This process's collector, installed once (a forked worker installs its own)."""
    found = _installed.get(pid)
    if found is None:
        found = _installed[pid] = Collector()
        # A fork inherits the parent's callback: drop it so only this process's counts.
        gc.callbacks[:] = [c for c in gc.callbacks if not isinstance(c, Collector)]
        gc.callbacks.append(found)
    return found
