"""`make lab`, the main job: the article's table, the sweep (closed loop for throughput,
open loop for latency at a stated rate) and resources, under wsgi and then asgi.

Each service gets half a core (GATEWAY_CPUS, BACKEND_CPUS), so the two together leave
loadgen a core of the two this lab was built on and the figures mean the same on a bigger
machine; set either to 0 for none. The memory a parked thread and task cost is loadgen's
own, the same whichever mode serves: it is measured in the first mode only.

Time (2 cores, warm images): about 14 min, within the 15 the main job has. What it leaves
out for that: the thread pool under load (the article table measures it, with its CPU per
aggregation; `docker compose run loadgen sweep --strategies threadpool` loads it), and in
resources the thread pool at c = 200 with the article's client, whose every request only
times out on half a core (60 s each, a minute a mode).
"""

from __future__ import annotations

from .settings import knob, words
from .stack import Cell

HELP = "the article table, sweep and resources in wsgi and asgi, then the report (~14 min)"
MODES = ("wsgi", "asgi")
# The sweep: gather with the article's client and the lab's best at c = 20 (past wsgi's 10
# threads), 3 times interleaved; and the tuned client open loop at 5/s (half of what wsgi's
# 10 backend threads allow), each window 20 s, long enough for 100 samples and so a p99. A
# closed cell costs ~9 s whatever its window (drain, verify, warm-up, a window stretched to
# 3x the latency): fewer cells, not thinner ones.
SWEEP = (
    "--strategies gather --clients article,auto --levels 20 --repeat 3 --duration 3s --warmup 1s "
    "--rates 5 --rate-clients auto"
)
# Threads and memory under load: gather at c = 200 (see above for the thread pool).
RESOURCES = "--strategies gather"
# Measured once: in every mode after the first, no parked threads or tasks.
NO_MEMORY = ("--threads", "0", "--tasks", "0")


def cells() -> list[Cell]:
    budgets = {"GATEWAY_CPUS": knob("GATEWAY_CPUS", "0.5"), "BACKEND_CPUS": knob("BACKEND_CPUS", "0.5")}
    article = words("LAB_ARTICLE", "")
    sweep = words("LAB_SWEEP", SWEEP)
    resources = words("LAB_RESOURCES", RESOURCES)
    return [
        Cell(
            knobs={"SERVER_MODE": mode, **budgets},
            runs=(("article", *article), ("sweep", *sweep), ("resources", *resources, *(NO_MEMORY if i else ()))),
            label=mode,
        )
        for i, mode in enumerate(words("LAB_MODES", " ".join(MODES)))
    ]
