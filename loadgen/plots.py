"""The report's plots: from the sweep's results throughput, latency, and the services'
threads and memory, each against concurrency with one column per server mode; from any
experiment's histograms, latency by percentile.

Each plot is written twice by `save`: a PNG for report.md and an SVG that report.html
inlines; what it returns, a Plot, also names the results it was drawn from, so the page can
show every figure's settings.

Over 250 lines: one function per kind of plot, sharing the save and the figure settings."""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

from .stats import histogram_of


class Plot(NamedTuple):
    """A plot written (PNG, and SVG beside it) and the (experiment, mode) keys of the results it shows."""

    path: Path
    sources: tuple[tuple[str, str], ...]

    @property
    def markdown(self) -> str:
        return f"![{self.path.stem}]({self.path.name})"


def _pyplot():
    # matplotlib loads only when a report is drawn: `loadgen run` has no use for it.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    return plt, matplotlib.ticker


def save(fig, path: Path, sources) -> Plot:
    """`path` (a PNG) and the same figure as SVG beside it."""
    import matplotlib

    fig.savefig(path, dpi=100)
    # Text as text, not glyph outlines: a fraction of the size, and selectable in the page.
    # A fixed salt per plot keeps the SVG's ids the same from one render to the next.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": path.stem}):
        fig.savefig(path.with_suffix(".svg"), metadata={"Date": None})
    return Plot(path, tuple(sources))


def _concurrency_axis(ax, cells: list[dict], ticker) -> None:
    ax.set_xscale("log")
    ticks = sorted({c["concurrency"] for c in cells})
    if ticks:
        ax.set_xticks(ticks)
    ax.xaxis.set_major_formatter(ticker.ScalarFormatter())
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.grid(True, alpha=0.3)


def _series(latest: dict, modes: list[str]) -> list[tuple[str, str]]:
    """Every (strategy, client) the sweep ran, in its order: one line (and colour) each."""
    found: dict[tuple[str, str], None] = {}
    for mode in modes:
        result = latest[("sweep", mode)]
        for cell in result["cells"]:
            client = cell.get("client") or result["scenario"].get("client") or "article"
            found.setdefault((cell["strategy"], client))
    return list(found)


def _label(key: tuple[str, str], keys) -> str:
    # One client throughout: the strategy says it all.
    return key[0] if len({client for _, client in keys}) == 1 else f"{key[0]}/{key[1]}"


def _closed(result: dict) -> list[dict]:
    """The sweep's closed-loop cells: the ones with a concurrency to plot against."""
    return [c for c in result["cells"] if c.get("concurrency") is not None]


def _cells(result: dict, key: tuple[str, str]) -> list[dict]:
    strategy, client = key
    return [
        c
        for c in _closed(result)
        if c["strategy"] == strategy and (c.get("client") or result["scenario"].get("client") or "article") == client
    ]


def _range(cell: dict, metric: str, y: float) -> tuple[float, float]:
    """How far below and above the shown (median) run the lowest and highest runs were."""
    values = [r[metric] for r in cell.get("repeats") or [cell["figures"]] if r.get(metric) is not None]
    return (y - min(values), max(values) - y) if values else (0.0, 0.0)


def sweep(latest: dict, modes: list[str], out: Path) -> list[Plot]:
    """sweep-throughput.png, sweep-latency.png and, with telemetry, sweep-resources.png.
    Error bars span the lowest to the highest of a cell's repeated runs."""
    plt, ticker = _pyplot()
    made = []
    keys = _series(latest, modes)
    for name, ylabel, metrics in (
        ("throughput", "aggregations / s", ("rps",)),
        ("latency", "closed-loop latency (s), p50 solid, p99 dashed", ("p50", "p99")),
    ):
        fig, axes = plt.subplots(1, len(modes), figsize=(5.5 * len(modes), 4), sharey=True, squeeze=False)
        for ax, mode in zip(axes[0], modes, strict=True):
            result = latest[("sweep", mode)]
            for colour, key in enumerate(keys):
                mine = [c for c in _cells(result, key) if all(c["figures"].get(m) is not None for m in metrics)]
                if not mine:
                    continue
                xs = [c["concurrency"] for c in mine]
                for metric in metrics:
                    ys = [c["figures"][metric] for c in mine]
                    ranges = [_range(c, metric, y) for c, y in zip(mine, ys, strict=True)]
                    ax.errorbar(
                        xs,
                        ys,
                        yerr=[[low for low, _ in ranges], [high for _, high in ranges]],
                        capsize=3,
                        # Squares for a tuned client, so it shows where it overlaps the article's.
                        marker="o" if key[1] == "article" else "s",
                        linestyle="--" if metric == "p99" else "-",
                        label=f"{_label(key, keys)} {metric if len(metrics) > 1 else ''}".strip(),
                        color=f"C{colour}",
                    )
            ax.set_title(f"SERVER_MODE={mode}")
            ax.set_xlabel("concurrency (closed loop)")
            _concurrency_axis(ax, _closed(result), ticker)
            if name == "latency":
                ax.set_yscale("log")
        axes[0][0].set_ylabel(ylabel)
        axes[0][-1].legend(fontsize=8)
        fig.tight_layout()
        made.append(save(fig, out / f"sweep-{name}.png", [("sweep", mode) for mode in modes]))
        plt.close(fig)
    resources = _sweep_resources(latest, modes, out, plt, ticker)
    return made + ([resources] if resources else [])


def _sweep_resources(latest: dict, modes: list[str], out: Path, plt, ticker) -> Plot | None:
    """Peak threads (top) and RSS (bottom) per service vs concurrency, one column per mode."""
    if not any(
        (c["figures"].get("services") or {}).get("gateway") for m in modes for c in latest[("sweep", m)]["cells"]
    ):
        return None
    fig, axes = plt.subplots(2, len(modes), figsize=(5.5 * len(modes), 7), sharex=True, squeeze=False)
    keys = _series(latest, modes)
    for column, mode in enumerate(modes):
        cells = _closed(latest[("sweep", mode)])
        for colour, key in enumerate(keys):
            mine = _cells(latest[("sweep", mode)], key)
            for service, style in (("gateway", "-"), ("backend", "--")):
                points = [(c["concurrency"], (c["figures"].get("services") or {}).get(service)) for c in mine]
                points = [(x, seen) for x, seen in points if seen]
                if not points:
                    continue
                xs = [x for x, _ in points]
                axes[0][column].plot(
                    xs,
                    [seen["threads_peak"] for _, seen in points],
                    marker="o",
                    linestyle=style,
                    color=f"C{colour}",
                    label=f"{_label(key, keys)} {service}",
                )
                axes[1][column].plot(
                    xs,
                    [seen["rss_peak_bytes"] / 2**20 for _, seen in points],
                    marker="o",
                    linestyle=style,
                    color=f"C{colour}",
                    label=f"{_label(key, keys)} {service}",
                )
        axes[0][column].set_title(f"SERVER_MODE={mode}")
        axes[1][column].set_xlabel("concurrency (closed loop)")
        for row in (0, 1):
            _concurrency_axis(axes[row][column], cells, ticker)
    axes[0][0].set_ylabel("peak threads (gateway solid, backend dashed)")
    axes[1][0].set_ylabel("peak RSS (MiB)")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    path = save(fig, out / "sweep-resources.png", [("sweep", mode) for mode in modes])
    plt.close(fig)
    return path


# HdrHistogram's percentile axis: x = 1 / (1 - q), on a log scale, so each "nine" of the
# tail gets as much room as the whole body of the distribution.
PERCENTILE_TICKS = (0.0, 50.0, 90.0, 99.0, 99.9, 99.99, 99.999)
TAIL = 1e5  # no further than 99.999 %
POINTS = 120


def percentile_curve(saved: dict) -> tuple[list[float], list[float]]:
    """(1 / (1 - q), latency in seconds) of a result's histogram, from q = 0 to as far into the
    tail as its count allows (a run of 300 requests says nothing of its 99.9th percentile)."""
    histogram = histogram_of(saved)
    count = histogram.get_total_count()
    if not count:
        return [], []
    far = max(1.0, min(float(count), TAIL))
    xs = [far ** (i / (POINTS - 1)) for i in range(POINTS)] if far > 1 else [1.0]
    ys = [histogram.get_value_at_percentile(100.0 * (1.0 - 1.0 / x)) / 1e6 for x in xs]
    return xs, ys


def percentiles(groups: list[tuple[str, list[tuple[str, dict]]]], path: Path, sources, title: str = "") -> Plot | None:
    """Latency by percentile as HdrHistogram's plotter draws it, one panel per group and one
    line per (label, histogram) in it. None when no histogram has a count."""
    curves = [(name, [(label, *percentile_curve(saved)) for label, saved in lines]) for name, lines in groups]
    curves = [(name, [line for line in lines if line[1]]) for name, lines in curves]
    curves = [(name, lines) for name, lines in curves if lines]
    if not curves:
        return None
    plt, ticker = _pyplot()
    highest = max(y for _, lines in curves for _, _, ys in lines for y in ys)
    scale, unit = (1.0, "s") if highest >= 2 else (1e3, "ms")
    columns = min(len(curves), 3)
    rows = math.ceil(len(curves) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5.5 * columns, 3.8 * rows), squeeze=False)
    for ax, (name, lines) in zip(axes.flat, curves, strict=False):
        far = max(max(xs) for _, xs, _ in lines)
        for colour, (label, xs, ys) in enumerate(lines):
            ax.plot(xs, [y * scale for y in ys], color=f"C{colour}", label=label)
        # To the decade past the last point: the next "nine" shows, and that the line ends before it.
        right = 10.0 ** max(1, math.ceil(math.log10(far) - 1e-9))
        ax.set_xscale("log")
        ax.set_xlim(1, right)
        ticks = [q for q in PERCENTILE_TICKS if 1 / (1 - q / 100) <= right * 1.0001]
        ax.set_xticks([1 / (1 - q / 100) for q in ticks])
        ax.xaxis.set_major_formatter(ticker.FixedFormatter([f"{q:g}" for q in ticks]))
        ax.xaxis.set_minor_locator(ticker.NullLocator())
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("percentile")
        ax.set_ylabel(f"latency ({unit})")
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(curves) :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    plot = save(fig, path, sources)
    plt.close(fig)
    return plot


def servers(rows: list[dict], out: Path) -> Plot | None:
    """servers.png: each mode's tuned throughput (bars spanning its runs) beside the backend's
    peak threads during that cell, best first; `rows` are servers.summary()'s, ranked."""
    measured = [r for r in rows if r["rps"] is not None]
    if not measured:
        return None
    plt, _ = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 0.45 * len(measured) + 1.6), sharey=True)
    names = [r["mode"] for r in measured][::-1]
    ys = range(len(names))
    rates = [r["rps"] for r in measured][::-1]
    runs = [[f.get("rps") or 0.0 for f in r.get("repeats") or [r["figures"]]] for r in measured][::-1]
    errors = [
        [y - min(rs) for y, rs in zip(rates, runs, strict=True)],
        [max(rs) - y for y, rs in zip(rates, runs, strict=True)],
    ]
    left.barh(ys, rates, xerr=errors, capsize=3, color="C0")
    left.set_yticks(list(ys), names)
    left.set_xlabel("tuned gather, aggregations / s (bars: lowest to highest run)")
    threads = [((r["figures"].get("services") or {}).get("backend") or {}).get("threads_peak") or 0 for r in measured]
    right.barh(ys, threads[::-1], color="C1")
    right.set_xlabel("backend threads at the peak of that cell")
    fig.tight_layout()
    path = save(fig, out / "servers.png", [("servers", r["mode"]) for r in measured])
    plt.close(fig)
    return path
