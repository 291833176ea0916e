"""The newest `make bench`: is loadgen itself to be trusted on this machine?"""

from __future__ import annotations

from pathlib import Path

from .. import markdown
from ..units import format_duration
from . import Section


def section(latest: dict, folder: Path) -> Section:
    """The newest `make bench` (bench/loadgen_vs_wrk.py): is loadgen itself to be trusted on this machine?"""
    benches = [result for (name, _), result in latest.items() if name == "bench"]
    if not benches:
        return Section([])
    bench = benches[-1]
    rows = [
        [
            f"{target['label']}, c={target['concurrency']}",
            tool,
            f"{figures['rps']:.1f}",
            format_duration(figures["p50"]),
        ]
        for target in bench["targets"]
        for tool, figures in target["tools"].items()
    ]
    return Section(
        [
            "## Load tool check (`make bench`)",
            "",
            f"Medians of {bench['rounds']} rounds x {bench['duration']:g} s, {bench['environment'].get('wrk', 'wrk')}.",
            "",
            *markdown.table(("target", "tool", "req/s", "p50"), rows),
            "",
            *(f"- {'ok' if v['ok'] else '**missed**'}: {v['check']}" for v in bench["verdicts"]),
            "",
        ]
    )
