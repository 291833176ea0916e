"""The Docker engine's CPU for the lab, as a campaign meters it on the host
(campaigns/engine.py writes it into the results folder loadgen shares): read here so that a
cell's lab share counts it (loadgen/budgets.py), instead of passing it for a neighbour's.

The file holds samples stamped with CLOCK_MONOTONIC, which the host and every container
share, so they line up with loadgen's own window (time.perf_counter is that clock on
Linux). A file whose newest sample is older than FRESH is a campaign's that ended (or a
machine's from before a reboot): not read. Without one (`docker compose run loadgen` by
hand) the lab's share is its containers' alone, and the engine's work stays outside it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

FILE = ".engine-meter"  # campaigns/engine.py's FILE
FRESH = 2.0


def read(folder: Path | None) -> list[dict]:
    """The meter's samples ({"at", "cpu_seconds"}) if a live one writes into `folder`."""
    if folder is None:
        return []
    try:
        samples = json.loads((folder / FILE).read_text())["samples"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    if not samples or abs(time.perf_counter() - samples[-1]["at"]) > FRESH:
        return []
    return samples
