"""Memory per idle thread and per parked asyncio task (the article's Part III), each count
measured in a fresh interpreter so nothing else on the heap blurs it.

`python -m loadgen.memory threads 10000` prints one JSON line: resident memory before and
with the threads parked, and the difference per thread. Resident, not virtual: a thread's
8 MB stack is mostly address space that is never touched.

The child never wakes what it parked: it prints its figures and leaves with os._exit.
Waking 10,000 threads at once (Event.set, then join) makes them queue on the Event's lock
and the GIL, each handing both on to the next: on a busy 2-core machine that took 1-9 s
for the set alone and 30 s to 7 min for the joins, with the process spinning through most
of it, while the figure had been read before any of it. That teardown was the child that
timed out `make lab` after 120 s; the parent now also bounds and retries each child.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import platform
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Sequence

KINDS = ("threads", "tasks_sleep", "tasks_event")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE


def threads(count: int) -> tuple[int, int]:
    """RSS before and with `count` threads parked. They stay parked: the caller exits the
    process without waking them (see the module's docstring)."""
    forever = threading.Event()
    started = threading.Semaphore(0)

    def park() -> None:
        started.release()
        forever.wait()

    gc.collect()
    before = rss()
    pool = [threading.Thread(target=park, daemon=True) for _ in range(count)]
    for thread in pool:
        thread.start()
    for _ in pool:
        started.acquire()
    time.sleep(0.2)
    return before, rss()


def tasks(count: int, how: str) -> tuple[int, int]:
    async def main() -> tuple[int, int]:
        release = asyncio.Event()

        async def park() -> None:
            if how == "sleep":
                await asyncio.sleep(3600)
            else:
                await release.wait()

        gc.collect()
        before = rss()
        pool = [asyncio.create_task(park()) for _ in range(count)]
        await asyncio.sleep(0.2)  # every task has run up to its first await
        after = rss()
        release.set()
        for task in pool:
            task.cancel()
        await asyncio.gather(*pool, return_exceptions=True)
        return before, after

    return asyncio.run(main())


# Each child is bounded and tried again once: a measurement that fails is reported with
# why, and the experiment goes on without it.
TIMEOUT = 60.0
ATTEMPTS = 2


def measure(
    kind: str, count: int, timeout: float = TIMEOUT, attempts: int = ATTEMPTS, python: Sequence[str] = ()
) -> dict:
    """Run one measurement in a child interpreter and return its figures, with the attempts
    it took and each one's seconds; {"error": why} when none of them succeeded. `python`:
    the command that starts that interpreter, this one's by default (`compose exec -T
    backend python` measures the backend's: campaigns/parked.py)."""
    tries: list[dict] = []
    for _ in range(attempts):
        begin = time.perf_counter()
        try:
            result = subprocess.run(
                [*(python or (sys.executable,)), "-m", "loadgen.memory", kind, str(count)],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            tries.append({"seconds": round(time.perf_counter() - begin, 2), "error": f"timed out after {timeout:g} s"})
            continue
        seconds = round(time.perf_counter() - begin, 2)
        if result.returncode == 0:
            return {**json.loads(result.stdout), "attempts": [*tries, {"seconds": seconds}]}
        why = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
        tries.append({"seconds": seconds, "error": why})
        if result.returncode == 2:  # a usage error: trying again changes nothing
            break
    return {"kind": kind, "count": count, "error": tries[-1]["error"], "attempts": tries}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in KINDS or not argv[1].isdigit() or not 1 <= int(argv[1]) <= 1_000_000:
        print(f"usage: python -m loadgen.memory {{{'|'.join(KINDS)}}} COUNT (1..1000000)", file=sys.stderr)
        return 2
    kind, count = argv[0], int(argv[1])
    begin = time.perf_counter()
    before, after = threads(count) if kind == "threads" else tasks(count, kind.split("_")[1])
    figures = {
        "kind": kind,
        "count": count,
        "rss_before": before,
        "rss_after": after,
        "bytes_each": (after - before) / count,
        "park_seconds": round(time.perf_counter() - begin, 3),
        # Whose figures these are: the interpreter that parked them, and its GIL (None
        # before 3.13, which cannot say). Only the standard library is imported here, so no
        # C extension can have turned a free-threaded build's GIL on.
        "python": platform.python_version(),
        "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": None if not hasattr(sys, "_is_gil_enabled") else sys._is_gil_enabled(),
    }
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    status = main(sys.argv[1:])
    sys.stderr.flush()
    # Not sys.exit: the parked threads are never woken (the module's docstring says why).
    os._exit(status)
