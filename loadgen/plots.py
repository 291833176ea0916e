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


def sweep(latest: dict, modes: list[str], out: Path) -> list[Path]:
    """sweep-throughput.png, sweep-latency.png and, with telemetry, sweep-resources.png."""
    plt, ticker = _pyplot()
    made = []
    for name, ylabel, series in (
        ("throughput", "aggregations / s", lambda f: [("", f["rps"])]),
        ("latency", "latency (s), p50 solid, p99 dashed", lambda f: [("p50", f["p50"]), ("p99", f["p99"])]),
    ):
        fig, axes = plt.subplots(1, len(modes), figsize=(5.5 * len(modes), 4), sharey=True, squeeze=False)
        for ax, mode in zip(axes[0], modes, strict=True):
            cells = latest[("sweep", mode)]["cells"]
            for colour, strategy in enumerate(dict.fromkeys(c["strategy"] for c in cells)):
                mine = [c for c in cells if c["strategy"] == strategy]
                xs = [c["concurrency"] for c in mine]
                for i, (label, _) in enumerate(series(mine[0]["figures"])):
                    ys = [series(c["figures"])[i][1] for c in mine]
                    ax.plot(
                        xs,
                        ys,
                        marker="o",
                        linestyle="--" if label == "p99" else "-",
                        label=f"{strategy} {label}".strip(),
                        color=f"C{colour}",
                    )
            ax.set_title(f"SERVER_MODE={mode}")
            ax.set_xlabel("concurrency (closed loop)")
            _concurrency_axis(ax, cells, ticker)
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
    for column, mode in enumerate(modes):
        cells = latest[("sweep", mode)]["cells"]
        for colour, strategy in enumerate(dict.fromkeys(c["strategy"] for c in cells)):
            mine = [c for c in cells if c["strategy"] == strategy]
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
                    label=f"{strategy} {service}",
                )
                axes[1][column].plot(
                    xs,
                    [seen["rss_peak_bytes"] / 2**20 for _, seen in points],
                    marker="o",
                    linestyle=style,
                    color=f"C{colour}",
                    label=f"{strategy} {service}",
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
