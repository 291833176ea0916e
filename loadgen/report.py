"""`report`: every result in results/ rendered to results/report.md with PNG plots, and
the same sections to results/report.html, one self-contained page (loadgen/html.py).

Each experiment writes its own section; this module orders them and adds what spans
experiments: where the time went, latency by percentile, the load tool check and what was
measured.
"""

from __future__ import annotations

from pathlib import Path

from . import html, markdown, plots, stats
from .breakdown import PARTS
from .experiments import (
    article,
    clients,
    db,
    faults,
    resources,
    run,
    servers,
    slowclients,
    soak,
    streams,
    sweep,
    versions,
)
from .results import load, measurements, mode_order, modes, show_unsaved
from .units import format_duration

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


def breakdown_section(latest: dict, folder: Path) -> list[str]:
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
                where = f"sweep c={cell['concurrency']}, {sweep.client_of(cell, result)} client"
                rows.append([mode, where, cell["strategy"], *parts])
    if not rows:
        return []
    return [
        "## Where the time went",
        "",
        "Mean client latency split with the `Server-Timing` each service sends (means add up; medians "
        "would not). " + PARTS_EXPLAINED,
        "",
        *markdown.table(("mode", "scenario", "strategy", "latency", *PARTS), rows),
        "",
    ]


# Percentile plots: which field makes a panel in each experiment (the others label its lines).
PANEL_BY = {"db": "target"}
LABELLED_BY = ("variant", "strategy", "client", "target")
PERCENTILE_ORDER = ("article", "sweep", "resources", "db", "clients", "faults", "soak", "run")


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


def percentiles_section(latest: dict, folder: Path) -> list[str]:
    """Latency by percentile, HdrHistogram's way, from the histograms every result keeps."""
    lines = []
    found = {name.split("/")[0] for name, _ in latest} - {"bench"}
    for experiment in [*PERCENTILE_ORDER, *sorted(found - set(PERCENTILE_ORDER))]:
        groups, drawn = percentile_groups(latest, experiment)
        if not groups:
            continue
        path = plots.percentiles(groups, folder / f"percentiles-{experiment}.png", drawn, title=experiment)
        if path:
            lines += [f"![latency by percentile: {experiment}]({path.name})", ""]
    if not lines:
        return []
    return [
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
    ]


def bench_section(latest: dict, folder: Path) -> list[str]:
    """The newest `make bench` (bench/loadgen_vs_wrk.py): is loadgen itself to be trusted on this machine?"""
    benches = [result for (name, _), result in latest.items() if name == "bench"]
    if not benches:
        return []
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
    return [
        "## Load tool check (`make bench`)",
        "",
        f"Medians of {bench['rounds']} rounds x {bench['duration']:g} s, {bench['environment'].get('wrk', 'wrk')}.",
        "",
        *markdown.table(("target", "tool", "req/s", "p50"), rows),
        "",
        *(f"- {'ok' if v['ok'] else '**missed**'}: {v['check']}" for v in bench["verdicts"]),
        "",
    ]


def _server(health: dict | None) -> str:
    if not health:
        return "?"
    s = health["server"]
    return f"{s['server']} {s['workers']}w" + (f" x {s['threads']}t" if s.get("threads") else "")


def _cpu(health: dict | None) -> str:
    """A service's CPU budget from its /healthz: the cores it may use, and why that many."""
    cpu = (health or {}).get("cpu")
    if not cpu:
        return "?"
    why = [f"quota {cpu['quota']:g}" if cpu.get("quota") else "no quota"]
    if cpu.get("cpuset"):
        why.append(f"cpuset {cpu['cpuset']}")
    return f"{cpu['cores']:g} cores ({', '.join(why)})"


def _version(env: dict, name: str) -> str:
    return ((env.get("gateway") or {}).get("versions") or {}).get(name) or "?"


ENVIRONMENT_HEADER = (
    "result",
    "mode",
    "gateway server",
    "backend server",
    "Django",
    "Python",
    "gateway CPU",
    "backend CPU",
    "commit",
    "when",
)


def environment_row(result: dict, mode: str) -> list[str]:
    env = result["environment"]
    return [
        result["_file"],
        mode,
        _server(env.get("gateway")),
        _server(env.get("backend")),
        _version(env, "django"),
        _version(env, "python"),
        _cpu(env.get("gateway")),
        _cpu(env.get("backend")),
        env.get("git_commit") or "?",
        env["timestamp"],
    ]


def environment_section(latest: dict) -> list[str]:
    # The page's summary; each figure's settings (figure_settings) add Python and CPU budgets.
    summary = ("result", "mode", "gateway server", "backend server", "Django", "commit", "when")
    rows = []
    for (name, mode), result in sorted(latest.items()):
        if name != "bench":
            row = dict(zip(ENVIRONMENT_HEADER, environment_row(result, mode), strict=True))
            rows.append([row[column] for column in summary])
    return ["## What was measured", "", *markdown.table(summary, rows), ""]


def _scenario(scenario: dict) -> str:
    shown = ", ".join(
        f"{name} {','.join(map(str, value)) if isinstance(value, list) else value}"
        for name, value in scenario.items()
        if value is not None and not isinstance(value, dict)
    )
    return shown or "-"


def figure_settings(latest: dict, keys) -> list[str]:
    """What a figure was drawn from: each result's mode, servers, versions, CPU budgets,
    commit and scenario, as Markdown lines."""
    found = [(key, latest[key]) for key in keys if key in latest]
    if not found:
        return []
    rows = [environment_row(result, key[1]) for key, result in found]
    lines = markdown.table(ENVIRONMENT_HEADER, rows)
    for key, result in found:
        lines += ["", f"- `{result['_file']}` ({key[0]}, {key[1]}): {_scenario(result.get('scenario') or {})}"]
    return lines


def campaign_section(latest: dict, folder: Path) -> list[str]:
    """The newest run of each campaign (make lab, ...): its time, and every step that failed
    or was skipped with why, so a report made from a run that lost a step says so."""
    runs = [result for (name, _), result in sorted(latest.items()) if name.startswith("campaign/")]
    if not runs:
        return []
    lines = ["## The run", ""]
    for result in runs:
        steps, failed = result["steps"], [s for s in result["steps"] if s["status"] != "ok"]
        minutes, seconds = divmod(round(result["seconds"]), 60)
        lines.append(
            f"`make {result['variant']}` ({result['_file']}): {minutes} min {seconds} s, "
            f"{len(steps) - len(failed)} of {len(steps)} steps done"
            + ("." if not failed else f"; **{len(failed)} did not run to the end**, so their sections are missing:")
        )
        for step in failed:
            what = " ".join(step["args"]) or step["kind"]
            why = " / ".join(line.strip() for line in (step.get("why") or [])[-3:] if line.strip())
            code = f"exit {step['exit']}: " if "exit" in step else ""
            lines.append(f"- {step['status']}: `{what}` ({step['label'] or 'all'}): {code}{why}")
        lines.append("")
    return lines


# The page's order: what ran first, then the article, then what explains it, then the rest.
SECTIONS = (
    campaign_section,
    article.section,
    sweep.section,
    servers.section,
    versions.section,
    breakdown_section,
    percentiles_section,
    resources.section,
    db.section,
    clients.section,
    faults.section,
    soak.section,
    streams.section,
    slowclients.section,
    run.section,
    bench_section,
)


def render(results: Path) -> Path | None:
    """report.md (PNG plots beside it) and report.html (self-contained) of the newest results;
    report.md's path, None if either could not be written."""
    latest = load(results)
    plots.DRAWN.clear()
    lines = [
        "# asynclab report",
        "",
        "Generated by `loadgen report` from the newest result of each experiment and server mode in "
        f"`{results.name}/`. Medians and percentiles from HdrHistogram; every figure's settings are in its JSON file.",
        "",
    ]
    body = [line for section in SECTIONS for line in section(latest, results)]
    lines += body or ["No results yet: run `docker compose run --rm loadgen` (or `make lab`) first.", ""]
    lines += environment_section(latest) if latest else []
    settings = {name: figure_settings(latest, keys) for name, keys in plots.DRAWN.items()}
    page = html.page(lines, results, settings)
    path = results / "report.md"
    for where, text, what in ((path, "\n".join(lines), "report"), (results / "report.html", page, "HTML report")):
        try:
            where.write_text(text)
        except OSError as exc:
            show_unsaved(where, exc, text, what)
            return None
    return path
