"""`make freethreaded` (issue 28, docs/freethreaded.md): every interpreter the PYTHON knob
offers (3.14 with the GIL, 3.14t without it, built from one source), side by side in one run:

- one wsgi worker with 1, 2 and 4 threads: `/api/cpu` throughput at one request per thread
  (loadgen freethreaded --parts cpu), and with 1 thread the single-thread CPU per request
  (single: the same runs) and the memory of a parked thread and task in the backend's
  own interpreter, measured from the host (campaigns/parked.py);
- the article's gather and thread-pool aggregations at c=20 under wsgi (its default
  threads) and asgi: threads against async on each interpreter (--parts aggregation);

then the report, whose freethreaded section sets them side by side with the verdicts on the
article's Part III. The backend gets every core (BACKEND_CPUS=0): the question is whether
one process can use two of them.

Time (2 cores, warm images): its reference run's, in README's table (docs/reference/freethreaded/).
"""

from __future__ import annotations

import sys

from asynclab.knobs import KNOBS

from .settings import knob, words
from .stack import Cell, host, loadgen

HELP = "CPU-bound threads, threads vs async, single-thread cost and memory on PYTHON=3.14 and 3.14t (~8 min)"
THREADS = ("1", "2", "4")
MODES = ("wsgi", "asgi")
# Each CPU cell: 3 runs of 3 s (1 s warm-up), interleaved with the single-thread runs where
# it has them; 20 ms of work a request, so ~50 requests a thread a second.
CPU_ARGS = "--ms 20 --repeat 3 --duration 3s --warmup 1s"
# The article's aggregations past wsgi's 10 threads, each 3 times interleaved, the lab's
# own sweep cells (make lab), with the article's client.
AGGREGATION_ARGS = "--level 20 --repeat 3 --duration 3s --warmup 1s --strategies gather,threadpool"
# The article's Part III counts (loadgen resources), parked in the backend's interpreter.
MEMORY_COUNTS = ("10000", "100000")


def cells() -> list[Cell]:
    budget = {"BACKEND_CPUS": knob("BACKEND_CPUS", "0")}
    cpu, aggregation = words("FREETHREADED_CPU", CPU_ARGS), words("FREETHREADED_AGGREGATION", AGGREGATION_ARGS)
    memory = words("FREETHREADED_MEMORY", " ".join(MEMORY_COUNTS))
    found = []
    for python in words("FREETHREADED_PYTHONS", " ".join(KNOBS["PYTHON"].choices)):
        for threads in words("FREETHREADED_THREADS", " ".join(THREADS)):
            first = threads == "1"
            runs = [loadgen("freethreaded", "--parts", "cpu,single" if first else "cpu", *cpu)]
            if first and memory:
                # The host's interpreter starts it; the children are the backend's.
                runs.append(host(sys.executable, "-m", "campaigns.parked", *memory))
            knobs = {"PYTHON": python, "SERVER_MODE": "wsgi", "WORKERS": "1", "THREADS": threads, **budget}
            found.append(
                Cell(
                    knobs,
                    tuple(runs),
                    label=f"Python {python}, wsgi, 1 worker x {threads} thread{'' if first else 's'}",
                )
            )
        for mode in words("FREETHREADED_MODES", " ".join(MODES)):
            runs = (loadgen("freethreaded", "--parts", "aggregation", *aggregation),)
            found.append(
                Cell({"PYTHON": python, "SERVER_MODE": mode, **budget}, runs, label=f"Python {python}, {mode}")
            )
    return found
