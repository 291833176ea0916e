"""Where the time went: each aggregation's client latency split with the services'
Server-Timing, across the article's and the sweep's measurements."""

from __future__ import annotations

from pathlib import Path

from .. import markdown
from ..breakdown import PARTS
from ..results import modes
from ..units import format_duration
from . import Section
from .pairs import client_of

PARTS_EXPLAINED = (
    "*rest*: outside the gateway's handler (network, waiting for a worker, the server and Django "
    "around the middleware); *gateway*: its handler outside the fan-out; *calls*: the fan-out's time "
    "around the backend's handler (HTTP client, the hop, queueing in the backend, Django outside its "
    "handler); *backend*: backend handler time on the fan-out's critical path (the slowest call, or "
    "every call for sequential)."
)


def _parts(figures: dict) -> list[str] | None:
    b = figures.get("breakdown")
    if not b:
        return None
    return [format_duration(b["latency"])] + [f"{format_duration(b['parts'][p])} ({b['shares'][p]:.0%})" for p in PARTS]


def section(latest: dict, folder: Path) -> Section:
    """Where the time went: each client latency split with the services' Server-Timing."""
    rows = []
    for mode in modes(latest, "article"):
        for row in latest[("article", mode)]["rows"]:
            parts = _parts(row.get("figures") or {})
            if parts:
                rows.append([mode, f"article, {row['target']} view, c=1", row["strategy"], *parts])
    for mode in modes(latest, "sweep"):
        result = latest[("sweep", mode)]
        for cell in result["cells"]:
            parts = _parts(cell["figures"])
            if parts:
                where = f"sweep c={cell['concurrency']}, {client_of(cell, result)} client"
                rows.append([mode, where, cell["strategy"], *parts])
    if not rows:
        return Section([])
    return Section(
        [
            "## Where the time went",
            "",
            "Mean client latency split with the `Server-Timing` each service sends (means add up; medians "
            "would not). " + PARTS_EXPLAINED,
            "",
            *markdown.table(("mode", "scenario", "strategy", "latency", *PARTS), rows),
            "",
        ]
    )
