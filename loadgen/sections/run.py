"""The run experiment's terminal table and report section (loadgen/experiments/run.py measures)."""

from __future__ import annotations

from .. import display, markdown
from ..lab import flags, services_line
from ..units import format_duration
from . import Section


def table(result: dict) -> str:
    f, s = result["figures"], result["scenario"]
    load = f"open loop {s['rate']:g}/s" if s["rate"] else f"closed loop c={s['concurrency']}"
    lines = [
        f"{', '.join(s['urls'])}: {load}, {f['requests']} requests in {f['window']:.1f} s, {f['rps']:.1f} req/s",
        f"latency over {display.requests(f)} requests: "
        + "  ".join(f"{k} {display.latency(f, k)}" for k in ("p50", "p90", "p99", "p999", "max")),
    ]
    if f.get("latency_uncorrected"):
        u = f["latency_uncorrected"]
        lines.append(
            "  uncorrected (from actual send) "
            + "  ".join(f"{k} {format_duration(u[k])}" for k in ("p50", "p99", "max"))
        )
    lines.append(f"statuses {f['statuses']}  errors {display.errors(f)}  partial aggregations {f['partial']}")
    lines.append(_loadgen_line(f["loadgen"]))
    if f.get("machine"):
        lines.append(_machine_line(f["machine"]))
    if f.get("breakdown"):
        b = f["breakdown"]
        lines.append(
            "where the time went (means): "
            + ", ".join(f"{part} {format_duration(b['parts'][part])} ({b['shares'][part]:.0%})" for part in b["parts"])
        )
    lines.append("services: " + services_line(f))
    if f.get("slowest"):
        lines.append(
            "slowest request ids: "
            + ", ".join(f"{s['request_id']} ({format_duration(s['latency'])})" for s in f["slowest"])
        )
    notes = flags(f)
    if notes:
        lines.append("WARNING: " + "; ".join(notes))
    return "\n".join(lines)


def _loadgen_line(loadgen: dict) -> str:
    count = loadgen.get("workers", 1)
    if count == 1:
        line = f"loadgen: 1 process, CPU {loadgen['cpu_share']:.0%} of a core"
    else:
        line = (
            f"loadgen: {count} processes, CPU {loadgen['cpu_share']:.2f} cores "
            f"(busiest {loadgen['busiest_share']:.0%} of a core)"
        )
    if loadgen["cpu_ms_per_1000"]:
        line += f", {loadgen['cpu_ms_per_1000']:.0f} ms per 1000 requests"
    return line


def _machine_line(seen: dict) -> str:
    line = f"machine: {seen['cores']} cores"
    if seen.get("steal_share") is not None:
        line += f", steal {seen['steal_share']:.1%}, busy {seen['busy_share']:.0%}".replace("%", " %")
    return line


def section(latest: dict, folder) -> Section:
    runs = [result for (name, _), result in latest.items() if name == "run"]
    if not runs:
        return Section([])
    rows = []
    for result in runs:
        f, s = result["figures"], result["scenario"]
        load = f"rate {s['rate']:g}/s" if s.get("rate") else f"c={s['concurrency']}"
        rows.append(
            [
                result["_file"],
                result["environment"]["server_mode"],
                load,
                f["requests"],
                f"{f['rps']:.1f}",
                display.latency(f, "p50"),
                display.latency(f, "p99"),
                display.errors(f),
                "; ".join(flags(f)),
            ]
        )
    header = ("file", "mode", "load", "requests", "req/s", "p50", "p99", "errors", "notes")
    return Section(["## Runs", "", *markdown.table(header, rows), ""])
