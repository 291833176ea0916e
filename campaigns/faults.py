"""`make faults`: the backend stopped in the middle of a run and started again, while
`loadgen faults` measures errors, latency and the time to recover. FAULT_AT is when (seconds
after loadgen starts) the backend stops, FAULT_FOR for how long.

Time: loadgen faults' own duration (~45 s by default) and the stack's up and down.
"""

from __future__ import annotations

from .settings import knob, words
from .stack import Cell, loadgen

HELP = "stop the backend mid-run and start it again: errors, latency, time to recover"


def cells() -> list[Cell]:
    at, lasting = float(knob("FAULT_AT", "15")), float(knob("FAULT_FOR", "10"))
    during = ((at, ("compose", "stop", "backend")), (at + lasting, ("compose", "start", "backend")))
    # -T: no terminal, as the run goes on while the host stops and starts the backend.
    run = loadgen("faults", *words("ARGS", ""), options=("-T",), during=during)
    return [Cell({}, (run,), label="the backend stopped and started")]
