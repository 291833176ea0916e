"""The clients experiment's terminal table and report section (loadgen/experiments/clients.py measures)."""

from __future__ import annotations

from .. import bounds, display, markdown
from ..results import modes
from . import Section


def _gateway_cpu(figures: dict) -> float | None:
    return ((figures.get("services") or {}).get("gateway") or {}).get("cpu_ms_per_request")


def table(result: dict) -> str:
    s = result["scenario"]
    lines = [
        f"clients, SERVER_MODE={result['environment']['server_mode']} (n={s['n']} calls of {s['delay']:g} s "
        f"to the async view, {s['duration']:g} s per cell)",
        f"{'strategy':<11} {'client':<8} {'c':>4} {'req/s':>7} {'p50':>9} {'p99':>9} {'errors':>6} {'partial':>7} "
        f"{'gw CPU/agg':>10}  bound by",
    ]
    for cell in result["cells"]:
        f = cell["figures"]
        cpu = _gateway_cpu(f)
        lines.append(
            f"{cell['strategy']:<11} {cell['client']:<8} {cell['concurrency']:>4} {f['rps']:>7.1f} "
            f"{display.latency(f, 'p50'):>9} {display.latency(f, 'p99'):>20} {display.errors(f):>14} {f['partial']:>7} "
            + (f"{cpu:>7.1f} ms" if cpu is not None else f"{'-':>10}")
            + f"  {bounds.label(bounds.of(cell, result))}"
        )
    return "\n".join(lines)


def section(latest: dict, folder) -> Section:
    found = modes(latest, "clients")
    if not found:
        return Section([])
    s = latest[("clients", found[0])]["scenario"]
    rows = []
    for mode in found:
        result = latest[("clients", mode)]
        for cell in result["cells"]:
            f, cpu = cell["figures"], _gateway_cpu(cell["figures"])
            rows.append(
                [
                    mode,
                    cell["strategy"],
                    cell["client"],
                    cell["concurrency"],
                    f"{f['rps']:.1f}",
                    display.latency(f, "p50"),
                    display.latency(f, "p99"),
                    display.errors(f),
                    f["partial"],
                    f"{cpu:.1f} ms" if cpu is not None else "-",
                    bounds.label(bounds.of(cell, result)),
                ]
            )
    header = (
        "mode",
        "strategy",
        "client",
        "concurrency",
        "req/s",
        "p50",
        "p99",
        "errors",
        "partial",
        "gateway CPU",
        "bound by",
    )
    return Section(
        [
            "## HTTP clients",
            "",
            f"Closed loop, n = {s['n']} calls of {s['delay']:g} s to the backend's async view, {s['duration']:g} s "
            "per cell. *gateway CPU* is per aggregation, from its `/telemetry`; *bound by* as in the sweep.",
            "",
            *markdown.table(header, rows),
            "",
        ]
    )
