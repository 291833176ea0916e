"""The servers experiment's terminal table and report section (loadgen/experiments/servers.py measures)."""

from __future__ import annotations

from .. import bounds, display, markdown, plots, ranking
from ..experiments.servers import TRIVIAL
from ..results import modes
from ..units import format_duration
from . import Section, sweep


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}".replace("%", " %")


def _cpu(seen: dict) -> str:
    return "-" if seen.get("median") is None else f"{seen['median']:.2f} ms ± {_percent(seen['spread'])}"


def _peaks(figures: dict, name: str) -> str:
    seen = (figures.get("services") or {}).get(name)
    return "-" if not seen else f"{seen['threads_peak']} / {seen['rss_peak_bytes'] / 2**20:.0f} MiB"


def _server(env: dict, name: str = "backend") -> str:
    server = ((env.get(name) or {}).get("server")) or {}
    version = server.get("version")
    return f"{server.get('server', '?')}" + (f" {version}" if version else "")


def summary(result: dict) -> dict:
    """One mode's row: its tuned cell (median run), the article cell and the CPU figures."""
    row = result["article"][0] if result["article"] else {}
    out = {
        "mode": result["environment"].get("server_mode"),
        "server": _server(result["environment"]),
        "article": row,
        "cpu": result["cpu"],
    }
    if not result["sweep"]:
        refused = result.get("refused") or "no tuned cell"
        return {**out, "rps": None, "spread": None, "figures": {}, "bound": {"bound_by": "refused", "reason": refused}}
    cell = result["sweep"][0]
    pseudo = {"scenario": result["scenario"]["sweep"], "environment": result["environment"], "cells": result["sweep"]}
    return {
        **out,
        "rps": cell["figures"]["rps"],
        "spread": sweep.spread_of(cell)["rps"],
        "bound": bounds.of(cell, pseudo),
        "figures": cell["figures"],
        "repeats": sweep.repeats_of(cell),
    }


def table(result: dict) -> str:
    s = summary(result)
    lines = [
        f"servers, SERVER_MODE={s['mode']} ({s['server']}; medians of {result['scenario']['repeat']} interleaved runs)",
        f"  CPU per request, backend trivial view at c={result['scenario']['cpu_concurrency']}: "
        + ", ".join(f"{view} {_cpu(result['cpu'][view])}" for view in TRIVIAL),
        f"  article gather/sync cell: p50 {format_duration(s['article'].get('median'))}, "
        f"{'matches' if s['article'].get('matches') else 'differs'}: {s['article'].get('reason', '?')}",
        f"  tuned gather c={result['scenario']['level']}: "
        + (
            "-, "
            if s["rps"] is None
            else f"{s['rps']:.1f}/s over {display.requests(s['figures'])} requests, "
            f"{display.errors(s['figures'])} errors (spread {_percent(s['spread'])}), "
        )
        + f"bound by {bounds.label(s['bound'])}: {s['bound']['reason']}",
        f"  threads / RSS at c={result['scenario']['level']}: gateway {_peaks(s['figures'], 'gateway')}, "
        f"backend {_peaks(s['figures'], 'backend')}",
    ]
    return "\n".join(lines)


HEADER = (
    "rank",
    "mode",
    "server",
    "tuned gather req/s",
    "requests",
    "errors",
    "spread",
    "bound by",
    "backend CPU / request, sync view",
    "async view",
    "article gather/sync p50",
    "article verdict",
    "gateway threads / RSS",
    "backend threads / RSS",
)


def section(latest: dict, folder) -> Section:
    found = modes(latest, "servers")
    if not found:
        return Section([])
    standings = ranking.ranked(
        [summary(latest[("servers", mode)]) for mode in found], lambda row: row["figures"], lambda row: row["rps"]
    )
    rows = [row for _, row, _ in standings]
    s = latest[("servers", found[0])]["scenario"]
    table_rows = [
        [
            "-" if rank is None else rank,
            row["mode"],
            row["server"],
            "-" if row["rps"] is None else f"{row['rps']:.1f}",
            display.requests(row["figures"]) if row["figures"] else "-",
            display.errors(row["figures"]) if row["figures"] else "-",
            _percent(row["spread"]),
            bounds.label(row["bound"]),
            _cpu(row["cpu"]["sync"]),
            _cpu(row["cpu"]["async"]),
            format_duration(row["article"].get("median")),
            "matches" if row["article"].get("matches") else "**differs**",
            _peaks(row["figures"], "gateway"),
            _peaks(row["figures"], "backend"),
        ]
        for rank, row, _ in standings
    ]
    plot = plots.servers(rows, folder)
    return Section(
        [
            "## Server matrix",
            "",
            *([plot.markdown, ""] if plot else []),
            f"The same workloads on every SERVER_MODE (`make servers`), both services on the mode's server. Ranked by "
            f"the tuned gather cell: n = {s['sweep']['n']} calls of {s['sweep']['delay']:g} s to the backend's "
            f"{s['sweep']['target']} view with `client=auto`, closed loop at c = {s['level']}, the median of "
            f"{s['repeat']} interleaved runs of {s['duration']:g} s; *spread* is their (max - min) / median. CPU per "
            f"request is the backend's CPU seconds over its requests for its trivial views (`delay=0`) at "
            f"c = {s['cpu_concurrency']}, median ± spread over the same repeats. The article cell is its gather "
            f"over the sync view ({s['article']['n']} calls of {s['article']['delay']:g} s, one at a time). Threads "
            "and RSS are each service's peaks during the tuned cell. Throughput counts 2xx answers only; a mode "
            "whose tuned cell had errors (any other status, or a transport failure) ranks after every clean one, "
            "and one the host's neighbours disturbed is not ranked.",
            "",
            *markdown.table(HEADER, table_rows),
            "",
            *(
                f"- **{row['mode']}**: {bounds.label(row['bound'])}: {row['bound']['reason']}"
                + (f"; {note}" if note else "")
                for _, row, note in standings
            ),
            "",
        ],
        [plot] if plot else [],
    )
