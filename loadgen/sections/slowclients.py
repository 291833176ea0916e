"""The slowclients experiment's terminal table and report section (loadgen/experiments/slowclients.py measures)."""

from __future__ import annotations

from .. import display, markdown
from ..experiments.slowclients import line
from ..results import mode_order
from ..units import format_duration
from . import Section


def table(result: dict) -> str:
    s = result["scenario"]
    head_line = (
        f"slowclients, SERVER_MODE={result['environment']['server_mode']}, to the {s['where']}"
        f"{' through ' + s['edge'] if s.get('edge') else ''} ({s['front'] or 'unknown server'}): slow clients for "
        f"{s['hold']:g} s, ordinary requests at {s['rate']:g}/s, timeout {s['ordinary_timeout']:g} s"
    )
    return "\n".join([head_line, *("  " + line(cell) for cell in result["cells"])])


HEADER = (
    "mode",
    "in front",
    "slow clients",
    "shape",
    "ordinary p50",
    "p99",
    "errors (timeouts)",
    "slow ones closed by the server",
)


def section(latest: dict, folder) -> Section:
    keys = sorted(
        (key for key in latest if key[0].split("/")[0] == "slowclients"),
        key=lambda key: (mode_order(key[1]), key[1], key[0]),
    )
    if not keys:
        return Section([])
    rows = []
    for key in keys:
        result = latest[key]
        edge = result["scenario"].get("edge") or "-"
        for cell in result["cells"]:
            f, s = cell["figures"], cell["slow"]
            closed = "-" if not s["closed_by_server"] else f"{s['closed_by_server']} of {s['connected']}"
            if s["closed_by_server"]:
                closed += f", after {format_duration(s['closed_after']['p50'])}"
            if s["answers"]:
                closed += " (" + ", ".join(f"{n}x {status}" for status, n in sorted(s["answers"].items())) + ")"
            rows.append(
                [
                    key[1],
                    edge,
                    cell["concurrency"],
                    cell["shape"],
                    display.latency(f, "p50"),
                    display.latency(f, "p99"),
                    f"{display.errors(f)} of {f['requests']}",
                    closed,
                ]
            )
    s = latest[keys[0]]["scenario"]
    return Section(
        [
            "## Slow clients",
            "",
            f"K connections that send half a request head and stop (*half*), or send it a byte every {s['every']:g} s "
            f"(*trickle*), held for {s['hold']:g} s, while ordinary requests go to the same place at {s['rate']:g}/s "
            f"(open loop, timeout {s['ordinary_timeout']:g} s). The first row of each set-up has no slow client. "
            "*In front*: nginx when the requests went through `EDGE=nginx`.",
            "",
            *markdown.table(HEADER, rows),
            "",
            "- **A thread per connection is held by a client that has not finished its request.** gunicorn's gthread "
            "worker reads the request head on one of its threads: 10 slow clients take all 10 and every ordinary "
            "request waits for them (here: until they left, or its timeout). uvicorn reads heads on its event loop "
            "and parks each slow connection as a few kilobytes; it sets no deadline for a head, so they stay.",
            "- **A buffering proxy fixes it for threaded servers.** nginx reads the head itself and forwards only a "
            "whole request, so no gunicorn thread ever waits on a client; `client_header_timeout` closes the slow "
            "ones (408). What it costs is in docs/streams.md (a hop: latency and CPU per request).",
            "",
        ]
    )
