"""The report's PNG plots, from the sweep's results: throughput, latency, and the services'
threads and memory, each against concurrency with one column per server mode."""

from __future__ import annotations

from pathlib import Path


def _pyplot():
    # matplotlib loads only when a report is drawn: `loadgen run` has no use for it.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    return plt, matplotlib.ticker


def _concurrency_axis(ax, cells: list[dict], ticker) -> None:
    ax.set_xscale("log")
    ax.set_xticks(sorted({c["concurrency"] for c in cells}))
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


def _cells(result: dict, key: tuple[str, str]) -> list[dict]:
    strategy, client = key
    return [
        c
        for c in result["cells"]
        if c["strategy"] == strategy and (c.get("client") or result["scenario"].get("client") or "article") == client
    ]


def _range(cell: dict, metric: str, y: float) -> tuple[float, float]:
    """How far below and above the shown (median) run the lowest and highest runs were."""
    values = [r[metric] for r in cell.get("repeats") or [cell["figures"]] if r.get(metric) is not None]
    return (y - min(values), max(values) - y) if values else (0.0, 0.0)


def sweep(latest: dict, modes: list[str], out: Path) -> list[Path]:
    """sweep-throughput.png, sweep-latency.png and, with telemetry, sweep-resources.png.
    Error bars span the lowest to the highest of a cell's repeated runs."""
    plt, ticker = _pyplot()
    made = []
    keys = _series(latest, modes)
    for name, ylabel, metrics in (
        ("throughput", "aggregations / s", ("rps",)),
        ("latency", "latency (s), p50 solid, p99 dashed", ("p50", "p99")),
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
            _concurrency_axis(ax, result["cells"], ticker)
            if name == "latency":
                ax.set_yscale("log")
        axes[0][0].set_ylabel(ylabel)
        axes[0][-1].legend(fontsize=8)
        fig.tight_layout()
        path = out / f"sweep-{name}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        made.append(path)
    resources = _sweep_resources(latest, modes, out, plt, ticker)
    return made + ([resources] if resources else [])


def _sweep_resources(latest: dict, modes: list[str], out: Path, plt, ticker) -> Path | None:
    """Peak threads (top) and RSS (bottom) per service vs concurrency, one column per mode."""
    if not any(
        (c["figures"].get("services") or {}).get("gateway") for m in modes for c in latest[("sweep", m)]["cells"]
    ):
        return None
    fig, axes = plt.subplots(2, len(modes), figsize=(5.5 * len(modes), 7), sharex=True, squeeze=False)
    keys = _series(latest, modes)
    for column, mode in enumerate(modes):
        cells = latest[("sweep", mode)]["cells"]
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
    path = out / "sweep-resources.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
