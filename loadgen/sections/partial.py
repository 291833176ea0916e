"""Runs stopped part way by a signal (loadgen/stopped.py): each one's newest, what it had
measured when it stopped, so a report never passes a cut run over in silence."""

from __future__ import annotations

from pathlib import Path

from .. import markdown
from ..units import format_duration
from . import Section

HEADER = (
    "experiment",
    "mode",
    "stopped by",
    "after",
    "finished",
    "stopped in",
    "requests",
    "errors",
    "unanswered",
    "file",
)


def row(name: str, mode: str, result: dict) -> list[str]:
    info = result["partial"]
    figures = result.get("figures") if info["under_way_measured"] else None
    return [
        name.removeprefix("partial/"),
        mode,
        info["reason"],
        format_duration(info["after"]),
        str(info["finished"]),
        info["stopped_in"] or "-",
        str(figures["requests"]) if figures else "-",
        str(figures["errors"]) if figures else "-",
        str(figures.get("unanswered", "-")) if figures else "-",
        f"`{result['_file']}`",
    ]


def section(latest: dict, folder: Path) -> Section:
    rows = [row(name, mode, result) for (name, mode), result in sorted(latest.items()) if name.startswith("partial/")]
    if not rows:
        return Section([])
    return Section(
        [
            "## Runs stopped part way",
            "",
            "Stopped by a signal (Ctrl-C: SIGINT; `docker compose stop`: SIGTERM) in the middle of a run: each "
            "file holds the measurements it finished and the one under way as far as it went, marked "
            '`"partial"`; no other section uses them. Unanswered: sent, and cut off by the stop.',
            "",
            *markdown.table(HEADER, rows),
            "",
        ]
    )
