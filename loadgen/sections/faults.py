"""The faults experiment's terminal table and report section (loadgen/experiments/faults.py measures)."""

from __future__ import annotations

from .. import markdown
from ..results import modes
from ..units import format_duration
from . import Section


def _rate(phase: dict) -> str:
    return "-" if phase["error_rate"] is None else f"{phase['error_rate']:.0%}"


def table(result: dict) -> str:
    r, s = result["recovery"], result["scenario"]
    lines = [
        f"faults, SERVER_MODE={result['environment']['server_mode']}: {s['strategy']} at {s['rate']:g}/s for "
        f"{s['duration']:g} s (n={s['n']}, deadline {s['deadline']:g} s)"
    ]
    if not r["outage_seen"]:
        return "\n".join(
            lines + ["the backend never went down and came back during the run (run it with `make faults`)"]
        )
    lines.append(f"backend down at {r['down_at']:.1f} s, up at {r['up_at']:.1f} s ({r['outage']:.1f} s)")
    for name in ("before", "during", "after"):
        p = r[name]
        lines.append(f"  {name:<7} {p['requests']:>5} requests, errors {_rate(p):>5}, p50 {format_duration(p['p50'])}")
    lines.append(
        "recovered "
        + (
            "never, within the run"
            if r["recovered_after"] is None
            else f"{r['recovered_after']:.1f} s after the backend answered again"
        )
    )
    return "\n".join(lines)


HEADER = ("mode", "outage", "errors before", "during", "after", "p50 before", "during", "after", "clean again after")


def section(latest: dict, folder) -> Section:
    found = modes(latest, "faults")
    if not found:
        return Section([])
    rows = []
    for mode in found:
        r = latest[("faults", mode)]["recovery"]
        if not r.get("outage_seen"):
            rows.append([mode, "not seen", *[""] * (len(HEADER) - 2)])
            continue
        rows.append(
            [
                mode,
                f"{r['outage']:.1f} s",
                *(_rate(r[p]) for p in ("before", "during", "after")),
                *(format_duration(r[p]["p50"]) for p in ("before", "during", "after")),
                "never" if r["recovered_after"] is None else f"{r['recovered_after']:.1f} s",
            ]
        )
    return Section(
        [
            "## Backend stopped and started (`make faults`)",
            "",
            "Open loop through the gateway while the backend is stopped and started again; errors are "
            "answers that were not a full 200 (all calls failed: 502; some: partial).",
            "",
            *markdown.table(HEADER, rows),
            "",
        ]
    )
