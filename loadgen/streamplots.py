"""The streams experiment's plot: streams held open at once against the serving process's
threads and RSS, one column per server mode, one line per view (loadgen/plots.py's `save`
writes it as PNG and SVG and records which results it was drawn from)."""

from __future__ import annotations

from pathlib import Path

from . import plots

SERVICE = {"async": "backend", "sync": "backend", "gateway": "gateway"}


def points(result: dict, view: str) -> list[tuple[int, int, float]]:
    """(streams held, peak threads, peak RSS in MiB) of the view's serving service, per level."""
    found = []
    for cell in result["cells"]:
        if cell["view"] != view:
            continue
        seen = (cell["figures"].get("services") or {}).get(SERVICE[view])
        if seen:
            found.append((cell["streams"]["held_peak"], seen["threads_peak"], seen["rss_peak_bytes"] / 2**20))
    return sorted(found)


def held(latest: dict, modes: list[str], out: Path) -> list[plots.Plot]:
    if not modes:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(modes), figsize=(4.5 * len(modes), 6.5), squeeze=False)
    for column, mode in enumerate(modes):
        result = latest[("streams", mode)]
        for view in result["scenario"]["views"]:
            found = points(result, view)
            if not found:
                continue
            x = [max(p[0], 1) for p in found]
            axes[0][column].plot(x, [p[1] for p in found], marker="o", label=view)
            axes[1][column].plot(x, [p[2] for p in found], marker="o", label=view)
        axes[0][column].set_title(mode)
        for row, label in enumerate(("peak threads", "peak RSS (MiB)")):
            ax = axes[row][column]
            ax.set_xscale("log")
            ax.set_yscale("log" if row == 0 else "linear")
            ax.set_xlabel("streams held open at once")
            ax.set_ylabel(label)
            ax.grid(True, alpha=0.3)
        axes[0][column].legend(fontsize=8, title="view (serving service)")
    fig.suptitle("Streams held against the serving process's threads and memory")
    fig.tight_layout()
    plot = plots.save(fig, out / "streams-held.png", [("streams", mode) for mode in modes])
    plt.close(fig)
    return [plot]
