"""Latency by percentile, HdrHistogram's way, from the histogram every measurement keeps:
one plot per experiment, in the report's order of experiments."""

from __future__ import annotations

from pathlib import Path

from .. import plots, stats
from ..results import measurements, mode_order
from . import Section
from .order import NAMES

# Percentile plots: which field makes a panel in each experiment (the others label its lines).
PANEL_BY = {"db": "target"}
LABELLED_BY = ("variant", "strategy", "client", "target")


def _histogram(measurement: dict) -> dict | None:
    """A measurement's histogram, a repeated cell's runs added (never an average of their
    percentiles); None for one this loadgen cannot read: a damaged file costs its line, not the report."""
    runs = [run["histogram"] for run in measurement["repeats"] if run.get("histogram")]
    try:
        return stats.merged(runs or [measurement["figures"]["histogram"]])
    except Exception:  # hdrh raises its own kinds, zlib's and base64's for damaged data
        return None


def percentile_groups(latest: dict, experiment: str) -> tuple[list, list]:
    """(panels, the result keys drawn) of one experiment's percentile plot: a panel per
    strategy (per target for db), each at the highest concurrency it ran, a line per mode
    and whatever else varies in it (client, target, database)."""
    panel_by = PANEL_BY.get(experiment, "strategy")
    keys = sorted((key for key in latest if key[0].split("/")[0] == experiment), key=lambda k: (k[0], mode_order(k[1])))
    items = []
    for key in keys:
        result = latest[key]
        for m in measurements(result):
            if (m["figures"] or {}).get("histogram"):
                items.append({**m, "mode": key[1], "variant": result.get("variant"), "key": key})
    panels: dict[object, list[dict]] = {}
    for item in items:
        panels.setdefault(item[panel_by], []).append(item)
    groups, drawn = [], []
    for name, mine in panels.items():
        top = max((i["concurrency"] for i in mine if i["concurrency"] is not None), default=None)
        if top is not None:
            mine = [i for i in mine if i["concurrency"] == top]
        varying = [f for f in LABELLED_BY if f != panel_by and len({i[f] for i in mine}) > 1]
        lines = []
        for i in mine:
            label = " ".join([i["mode"], *(f"{i[f]} view" if f == "target" else str(i[f]) for f in varying)])
            histogram = _histogram(i)
            if histogram:
                lines.append((label, histogram))
                drawn.append(i["key"])
        if not lines:
            continue
        title = str(name) if name is not None else experiment
        if top is not None:
            title += f", c={top}"
        elif mine[0]["rate"]:
            title += f", {mine[0]['rate']:g}/s"
        groups.append((title, lines))
    return groups, list(dict.fromkeys(drawn))


def section(latest: dict, folder: Path) -> Section:
    """Latency by percentile, HdrHistogram's way, from the histograms every result keeps."""
    lines, made = [], []
    found = {name.split("/")[0] for name, _ in latest} - {"bench", "campaign"}
    # In the report's order of sections, then any other experiment's results.
    for experiment in [*(name for name in NAMES if name in found), *sorted(found - set(NAMES))]:
        groups, drawn = percentile_groups(latest, experiment)
        if not groups:
            continue
        plot = plots.percentiles(groups, folder / f"percentiles-{experiment}.png", drawn, title=experiment)
        if plot:
            made.append(plot)
            lines += [f"![latency by percentile: {experiment}]({plot.path.name})", ""]
    if not lines:
        return Section([])
    return Section(
        [
            "## Latency by percentile",
            "",
            "Each experiment's latency distribution as HdrHistogram users read it: latency against the "
            "percentile, on a scale of 1 / (1 - q) so that 90, 99, 99.9 and 99.99 are evenly spaced and the "
            "tail is as visible as the body; each line ends where its count runs out (a run of 300 requests "
            "says nothing of its 99.9th percentile). One panel per strategy (per target for `db`), at the "
            "highest concurrency it ran; one line per mode, client or view, a repeated cell's runs added together. "
            "Drawn from the histogram each "
            "measurement keeps in its result file (`figures.histogram`: HdrHistogram's V2 compressed base64 "
            "encoding, in microseconds, which any HdrHistogram library decodes and adds).",
            "",
            *lines,
        ],
        made,
    )
