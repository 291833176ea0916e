"""The faults experiment's terminal table and report section (loadgen/experiments/faults.py
measures): each fault `make faults` causes, in each server mode."""

from __future__ import annotations

from .. import markdown
from ..results import mode_order
from ..units import format_duration
from . import Section

# What loadgen saw strike and mend, by what it watched (experiments/faults.py FAULTS).
SEEN = {
    "backend": ("the backend stopped answering /healthz", "answered again"),
    "backend-workers": ("a backend worker was gone", "a new one served"),
    "gateway-workers": ("a gateway worker was gone", "a new one served"),
    "errors": ("the first failed answer", "the last"),
}
# Each fault as the report names it; results from before the faults had names are the first.
NAMES = {
    "backend-stopped": "backend stopped and started",
    "backend-worker-killed": "a backend worker killed (kill -9)",
    "gateway-worker-killed": "a gateway worker killed (kill -9)",
    "network-cut": "gateway cut off the backend's network",
    "postgres-restarted": "PostgreSQL restarted",
}
DEFAULT = "backend-stopped"


def _rate(phase: dict) -> str:
    return "-" if phase["error_rate"] is None else f"{phase['error_rate']:.0%}"


def _kinds(phase: dict) -> str:
    """Errors by kind: "502 x12, partial x3"; "-" for none, "?" for a result from before they were kept."""
    if "errors_by" not in phase:
        return "?"
    return ", ".join(f"{kind} x{count}" for kind, count in phase["errors_by"].items()) or "-"


def fault_of(result: dict) -> str:
    return (result.get("scenario") or {}).get("fault") or DEFAULT


def table(result: dict) -> str:
    r, s = result["recovery"], result["scenario"]
    fault = fault_of(result)
    struck, mended = SEEN[s.get("watched", "backend")]
    lines = [
        f"faults, {NAMES[fault]}, SERVER_MODE={result['environment']['server_mode']}: {s['strategy']} at "
        f"{s['rate']:g}/s for {s['duration']:g} s (n={s['n']}, deadline {s['deadline']:g} s)"
    ]
    if not r["outage_seen"]:
        return "\n".join(lines + [f"not seen: {struck} and came back within the run (run it with `make faults`)"])
    lines.append(f"{struck} at {r['down_at']:.1f} s, {mended} at {r['up_at']:.1f} s ({r['outage']:.1f} s)")
    for name in ("before", "during", "after"):
        p = r[name]
        longest = format_duration(p.get("longest"))
        lines.append(
            f"  {name:<7} {p['requests']:>5} requests, errors {_rate(p):>5} ({_kinds(p)}), "
            f"p50 {format_duration(p['p50'])}, longest {longest}"
        )
    lines.append(
        "clean again "
        + ("never, within the run" if r["recovered_after"] is None else f"{r['recovered_after']:.1f} s after {mended}")
    )
    if result.get("connections"):
        lines.append(connections_line(result["connections"]))
    return "\n".join(lines)


def connections_line(seen: dict) -> str:
    if not seen.get("reported"):
        return "PostgreSQL connections: not reported (not on PostgreSQL)"
    after = "?" if seen["after"] is None else seen["after"]
    return f"PostgreSQL connections: {seen['before']} as the run began, {seen['peak']} at the peak, {after} after it"


HEADER = (
    "fault",
    "mode",
    "outage",
    "errors before",
    "during",
    "after",
    "errors during, by kind",
    "longest during",
    "p50 before",
    "during",
    "after",
    "clean again after",
)


def row(result: dict, mode: str) -> list[str]:
    r, fault = result["recovery"], NAMES[fault_of(result)]
    if not r.get("outage_seen"):
        return [fault, mode, "not seen", *[""] * (len(HEADER) - 3)]
    return [
        fault,
        mode,
        f"{r['outage']:.1f} s",
        *(_rate(r[p]) for p in ("before", "during", "after")),
        _kinds(r["during"]),
        format_duration(r["during"].get("longest")),
        *(format_duration(r[p]["p50"]) for p in ("before", "during", "after")),
        "never" if r["recovered_after"] is None else f"{r['recovered_after']:.1f} s",
    ]


def section(latest: dict, folder) -> Section:
    found = [
        (result, mode)
        for (name, mode), result in latest.items()
        if name == "faults" or (name.startswith("faults/") and "@" not in name)
    ]
    if not found:
        return Section([])
    order = list(NAMES)
    found.sort(key=lambda item: (order.index(fault_of(item[0])), mode_order(item[1])))
    notes = [
        f"- {NAMES[fault_of(result)]}, {mode}: {connections_line(result['connections'])}."
        for result, mode in found
        if result.get("connections")
    ]
    return Section(
        [
            "## Faults in the middle of a run (`make faults`)",
            "",
            "An open loop through the gateway while `make faults` breaks the lab and mends it. Errors are "
            "answers that were not a full 200 (every call failed: 502; some: partial; a cut connection: "
            "disconnect), each in the second it came back in. The outage is what loadgen saw of the fault: "
            "the backend's /healthz gone, a worker's pid gone from /telemetry until a new one served, or "
            "(PostgreSQL) the first to the last failed answer. Clean again: the first second after it "
            "with no error and the p50 within 1.5x its level before.",
            "",
            *markdown.table(HEADER, [row(result, mode) for result, mode in found]),
            "",
            *([*notes, ""] if notes else []),
        ]
    )
