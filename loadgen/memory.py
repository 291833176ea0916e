"""Memory per idle thread and per parked asyncio task (the article's Part III), each count
measured in a fresh interpreter so nothing else on the heap blurs it.

`python -m loadgen.memory threads 10000` prints one JSON line: resident memory before and
with the threads parked, and the difference per thread. Resident, not virtual: a thread's
8 MB stack is mostly address space that is never touched.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import threading
import time

KINDS = ("threads", "tasks_sleep", "tasks_event")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE


def threads(count: int) -> tuple[int, int]:
    release = threading.Event()
    started = threading.Semaphore(0)

    def park() -> None:
        started.release()
        release.wait()

    gc.collect()
    before = rss()
    pool = [threading.Thread(target=park, daemon=True) for _ in range(count)]
    for thread in pool:
        thread.start()
    for _ in pool:
        started.acquire()
    time.sleep(0.2)
    after = rss()
    release.set()
    for thread in pool:
        thread.join()
    return before, after


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


def measure(kind: str, count: int, timeout: float = 120) -> dict:
    """Run one measurement in a child interpreter and return its figures."""
    result = subprocess.run(
        [sys.executable, "-m", "loadgen.memory", kind, str(count)], capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        return {"kind": kind, "count": count, "error": (result.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(result.stdout)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in KINDS or not argv[1].isdigit() or not 1 <= int(argv[1]) <= 1_000_000:
        print(f"usage: python -m loadgen.memory {{{'|'.join(KINDS)}}} COUNT (1..1000000)", file=sys.stderr)
        return 2
    kind, count = argv[0], int(argv[1])
    before, after = threads(count) if kind == "threads" else tasks(count, kind.split("_")[1])
    print(
        json.dumps(
            {
                "kind": kind,
                "count": count,
                "rss_before": before,
                "rss_after": after,
                "bytes_each": (after - before) / count,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
