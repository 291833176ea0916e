"""GET /api/cpu/?ms=: pure-Python CPU work, to show what the GIL does to threads in one
process (docs/api.md). A sync view, so it runs on a thread the server gives it (gunicorn's
gthread pool, granian's blocking threads, asgiref's under ASGI): with the GIL two such
requests take turns on one core, without it they run on two.

The work is fixed, not timed: ITERATIONS_PER_MS loop iterations per millisecond asked for,
about that many milliseconds of one core for CPython 3.14 with the GIL on the lab's
reference machine. So an interpreter that is slower per thread (the free-threaded build)
spends more CPU on the same request, and the answer says how much: `cpu_ms` is this
thread's own CPU time for the work, `wall_ms` the time it took, waiting for the GIL included.
The loop touches only its own locals and immortal small ints: no shared object whose
reference count or lock the threads would fight over, which would measure that contention
instead of the GIL. A constant is such an object: on CPython 3.14t a loop that loads a large
int constant (an earlier `& 0xFFFFFFFF`) from an imported module's code spent 4-5x the CPU
per iteration with two threads running it, every LOAD_CONST an atomic increment of one
shared reference count, and two threads served half of what one did. Small ints (-5 to 256)
are immortal and never counted. `make bench-freethreaded` shows it.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from asynclab import gil
from asynclab.http import ApiResponse
from asynclab.query import Query, endpoint

DEFAULT_MS = 10
# One second of a core per request at most: past it a caller could hold a thread per
# request as long as it likes, which no other parameter of the lab allows either.
MAX_MS = 1000
# Measured with `python -m backend.cpu` in the PYTHON=3.14 image on the reference machine
# (28,500-28,900 an ms over 5 rounds, the machine otherwise quiet).
ITERATIONS_PER_MS = 28_000


# trace=true: the thread notes the time every CHECK iterations (~0.2 ms of work); a gap
# longer than GAP means it was not running (waiting for the GIL, or for a core).
CHECK = 5000
GAP = 0.001


def work(iterations: int) -> int:
    value = 0
    for step in range(iterations):
        # Only small ints as constants: immortal, so no thread counts references to them.
        value = (value * 31 + step) & 255
    return value


def traced(iterations: int) -> tuple[int, list[list[float]]]:
    """The same work, and the stretches of time this thread spent running it: [start,
    end] on the monotonic clock. Two threads' stretches overlap only if they computed at
    the same moment, which the GIL never lets them do."""
    value, runs, clock = 0, [], time.monotonic
    start = last = clock()
    for block in range(0, iterations, CHECK):
        for step in range(block, min(block + CHECK, iterations)):
            value = (value * 31 + step) & 255
        now = clock()
        if now - last > GAP:
            runs.append([round(start, 6), round(last, 6)])
            start = now
        last = now
    runs.append([round(start, 6), round(last, 6)])
    return value, runs


@dataclass(frozen=True)
class CpuParams:
    ms: int
    trace: bool


def parse(query: Query) -> CpuParams:
    return CpuParams(ms=query.integer("ms", DEFAULT_MS, 0, MAX_MS), trace=query.boolean("trace", False))


@endpoint(parse)
def cpu(request, params: CpuParams):
    ms = params.ms
    iterations = ms * ITERATIONS_PER_MS
    started, own = time.monotonic(), time.thread_time()
    checksum, runs = traced(iterations) if params.trace else (work(iterations), None)
    own, ended = time.thread_time() - own, time.monotonic()
    response = ApiResponse(
        {
            "ms": ms,
            "iterations": iterations,
            "checksum": checksum,
            "cpu_ms": round(own * 1000, 3),
            "wall_ms": round((ended - started) * 1000, 3),
            # On the container's monotonic clock, which all its threads share: two answers
            # say whether their work overlapped, and how much CPU it took meanwhile.
            "started": round(started, 6),
            "ended": round(ended, 6),
            "thread": threading.current_thread().name,
            "pid": os.getpid(),
            "gil_enabled": gil.enabled(),
            **({"runs": runs} if runs is not None else {}),
        }
    )
    response.timings = {"cpu": own}
    return response


def calibrate(rounds: int = 5, iterations: int = 2_000_000) -> dict:
    """Iterations per millisecond of this thread's CPU on this interpreter: each round's."""
    per_ms = []
    for _ in range(rounds):
        start = time.thread_time()
        work(iterations)
        per_ms.append(iterations / ((time.thread_time() - start) * 1000))
    return {"iterations_per_ms": sorted(round(value) for value in per_ms), "gil_enabled": gil.enabled()}


if __name__ == "__main__":
    import json

    print(json.dumps(calibrate()))
