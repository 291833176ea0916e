"""`report`: every result in results/ rendered to results/report.md with PNG plots.

The newest file of each (experiment, server mode) is the one reported, so re-running an
experiment replaces its figures; older files stay on disk as history.
"""

from __future__ import annotations

import json
from pathlib import Path

from .experiments import flags
from .units import format_duration

MODES = ("wsgi", "asgi", "runserver")


def load(results: Path) -> dict[tuple[str, str], dict]:
    """Newest result per (experiment, server_mode); unreadable files are skipped, not fatal."""
    latest: dict[tuple[str, str], dict] = {}
    for path in sorted(results.glob("*.json")):
        try:
            result = json.loads(path.read_text())
            key = (result["experiment"], result["environment"]["server_mode"] or "unknown")
        except (ValueError, KeyError, TypeError):
            continue
        result["_file"] = path.name
        latest[key] = result
    return latest


def _modes(latest: dict, experiment: str) -> list[str]:
    found = [mode for (name, mode) in latest if name == experiment]
    return sorted(found, key=lambda m: MODES.index(m) if m in MODES else len(MODES))


def article_section(latest: dict) -> list[str]:
    modes = _modes(latest, "article")
    if not modes:
        return []
    first = latest[("article", modes[0])]
    s = first["scenario"]
    lines = ["## The article's table", "",
             f"Gateway strategy x backend view, n = {s['n']} calls of {s['delay']:g} s, one request at a time, "
             f"median of {s['repeat']}. *article* is what the article says for that server; the verdict says "
             "whether it still holds here.", ""]
    header = "| strategy | backend view | " + " | ".join(f"{m}: median | {m}: verdict" for m in modes) + " |"
    lines += [header, "|" + "---|" * (2 + 2 * len(modes))]
    rows = {}
    for mode in modes:
        for row in latest[("article", mode)]["rows"]:
            rows.setdefault((row["strategy"], row["target"]), {})[mode] = row
    notes = []
    for (strategy, target), by_mode in rows.items():
        cells = []
        for mode in modes:
            row = by_mode.get(mode)
            if row is None:
                cells += ["-", "-"]
                continue
            cells += [format_duration(row["median"]), "matches" if row["matches"] else "**differs**"]
            if not row["matches"]:
                notes.append(f"- **{strategy} / {target} view, {mode}**: the article says *{row['article']}*; "
                             f"measured {format_duration(row['median'])}: {row['reason']}.")
        lines.append(f"| {strategy} | {target} | " + " | ".join(cells) + " |")
    lines += ["", *(notes or ["Every claim holds in the modes measured."]), ""]
    return lines


def sweep_section(latest: dict, out: Path) -> list[str]:
    modes = _modes(latest, "sweep")
    if not modes:
        return []
    s = latest[("sweep", modes[0])]["scenario"]
    lines = ["## Concurrency sweep", "",
             f"Closed loop, each cell {s['duration']:g} s after {s['warmup']:g} s of warm-up; n = {s['n']} calls "
             f"of {s['delay']:g} s to the backend's {s['target']} view per aggregation. Throughput is "
             "aggregations per second; latency is per aggregation, as the client saw it.", ""]
    for plot in plots(latest, modes, out):
        lines += [f"![{plot.stem}]({plot.name})", ""]
    for mode in modes:
        result = latest[("sweep", mode)]
        lines += [f"### {mode}", "", "| strategy | concurrency | req/s | p50 | p90 | p99 | max | errors | partial | notes |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for cell in result["cells"]:
            f = cell["figures"]
            lines.append(f"| {cell['strategy']} | {cell['concurrency']} | {f['rps']:.1f} | {format_duration(f['p50'])} | "
                         f"{format_duration(f['p90'])} | {format_duration(f['p99'])} | {format_duration(f['max'])} | "
                         f"{f['errors']} | {f['partial']} | {'; '.join(flags(f)) or ''} |")
        lines.append("")
    lines += ["Cells flagged *Little's law off* had a window too short for their latency (concurrency should "
              "equal throughput x mean latency in a closed loop): read them as lower bounds on latency "
              "and rough throughput.", ""]
    return lines


def plots(latest: dict, modes: list[str], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    made = []
    for name, ylabel, series in (
        ("throughput", "aggregations / s", lambda f: [("", f["rps"])]),
        ("latency", "latency (s), p50 solid, p99 dashed", lambda f: [("p50", f["p50"]), ("p99", f["p99"])]),
    ):
        fig, axes = plt.subplots(1, len(modes), figsize=(5.5 * len(modes), 4), sharey=True, squeeze=False)
        for ax, mode in zip(axes[0], modes):
            cells = latest[("sweep", mode)]["cells"]
            for colour, strategy in enumerate(dict.fromkeys(c["strategy"] for c in cells)):
                mine = [c for c in cells if c["strategy"] == strategy]
                xs = [c["concurrency"] for c in mine]
                for i, (label, _) in enumerate(series(mine[0]["figures"])):
                    ys = [series(c["figures"])[i][1] for c in mine]
                    ax.plot(xs, ys, marker="o", linestyle="--" if label == "p99" else "-",
                            label=f"{strategy} {label}".strip(), color=f"C{colour}")
            ax.set_title(f"SERVER_MODE={mode}")
            ax.set_xlabel("concurrency (closed loop)")
            ax.set_xscale("log")
            ax.set_xticks(sorted({c["concurrency"] for c in cells}))
            ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
            ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            if name == "latency":
                ax.set_yscale("log")
            ax.grid(True, alpha=0.3)
        axes[0][0].set_ylabel(ylabel)
        axes[0][-1].legend(fontsize=8)
        fig.tight_layout()
        path = out / f"sweep-{name}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        made.append(path)
    return made


def runs_section(latest: dict) -> list[str]:
    runs = [result for (name, _), result in latest.items() if name == "run"]
    if not runs:
        return []
    lines = ["## Runs", "", "| file | mode | load | requests | req/s | p50 | p99 | errors | notes |", "|---|---|---|---|---|---|---|---|---|"]
    for result in runs:
        f, s = result["figures"], result["scenario"]
        load = f"rate {s['rate']:g}/s" if s.get("rate") else f"c={s['concurrency']}"
        lines.append(f"| {result['_file']} | {result['environment']['server_mode']} | {load} | {f['requests']} | {f['rps']:.1f} | "
                     f"{format_duration(f['p50'])} | {format_duration(f['p99'])} | {f['errors']} | {'; '.join(flags(f))} |")
    return lines + [""]


def bench_section(latest: dict) -> list[str]:
    """The newest `make bench`: is loadgen itself to be trusted on this machine?"""
    benches = [result for (name, _), result in latest.items() if name == "bench"]
    if not benches:
        return []
    bench = benches[-1]
    lines = ["## Load tool check (`make bench`)", "",
             f"Medians of {bench['rounds']} rounds x {bench['duration']:g} s, {bench['environment'].get('wrk', 'wrk')}.", "",
             "| target | tool | req/s | p50 |", "|---|---|---|---|"]
    for target in bench["targets"]:
        for tool, figures in target["tools"].items():
            lines.append(f"| {target['label']}, c={target['concurrency']} | {tool} | {figures['rps']:.1f} | {format_duration(figures['p50'])} |")
    lines.append("")
    lines += [f"- {'ok' if v['ok'] else '**missed**'}: {v['check']}" for v in bench["verdicts"]]
    return lines + [""]


def environment_section(latest: dict) -> list[str]:
    lines = ["## What was measured", "", "| result | mode | gateway server | backend server | Django | commit | when |",
             "|---|---|---|---|---|---|---|"]
    for (name, mode), result in sorted(latest.items()):
        if name == "bench":
            continue
        env = result["environment"]

        def server(health):
            if not health:
                return "?"
            s = health["server"]
            return f"{s['server']} {s['workers']}w" + (f" x {s['threads']}t" if s.get("threads") else "")

        django = ((env.get("gateway") or {}).get("versions") or {}).get("django", "?")
        lines.append(f"| {result['_file']} | {mode} | {server(env.get('gateway'))} | {server(env.get('backend'))} | "
                     f"{django} | {env.get('git_commit') or '?'} | {env['timestamp']} |")
    return lines + [""]


def render(results: Path) -> Path:
    latest = load(results)
    lines = ["# asynclab report", "",
             "Generated by `loadgen report` from the newest result of each experiment and server mode in "
             f"`{results.name}/`. Medians and percentiles from HdrHistogram; every figure's settings are in its JSON file.", ""]
    body = article_section(latest) + sweep_section(latest, results) + runs_section(latest) + bench_section(latest)
    lines += body or ["No results yet: run `docker compose run --rm loadgen` (or `make lab`) first.", ""]
    lines += environment_section(latest) if latest else []
    path = results / "report.md"
    path.write_text("\n".join(lines))
    return path
