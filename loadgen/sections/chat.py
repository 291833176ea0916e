"""The chat experiment's terminal table and report section (loadgen/experiments/chat.py
measures): one row per server mode, layer and server workers, and the delivery latency of
each as a percentile plot drawn from its HdrHistogram."""

from __future__ import annotations

from pathlib import Path

from .. import markdown, plots
from ..experiments.chat import line
from ..results import VERSION_MARK, mode_order
from ..stats import histogram_of
from ..units import format_duration
from . import Section

NAME = "chat"


def table(result: dict) -> str:
    s = result["scenario"]
    head = (
        f"chat, SERVER_MODE={result['environment']['server_mode']}, CHANNEL_LAYER={s['layer']}, "
        f"{s['server_workers']} server worker(s): {s['senders']} senders, {s['message_rate']:g} messages/s for "
        f"{s['duration']:g} s, members connected at {s['connect_rate']:g}/s, late after {s['late']:g} s"
    )
    return "\n".join([head, "  " + line(result)])


def found(latest: dict) -> list[tuple[tuple[str, str], dict]]:
    """Every chat result of the default Django (chat/<layer>-<workers>w), by mode then variant."""
    keys = [key for key in latest if key[0].split("/")[0] == NAME and VERSION_MARK not in key[0]]
    keys.sort(key=lambda key: (mode_order(key[1]), key[1], key[0]))
    return [(key, latest[key]) for key in keys]


HEADER = (
    "mode",
    "layer",
    "server workers",
    "members / rooms / senders",
    "connected (refused, failed)",
    "messages sent",
    "deliveries expected / delivered / late / lost",
    "latency p50 / p99 / p99.9 / max (timed)",
    "slow readers: got / expected (layer dropped)",
    "backend per member (threads, RSS)",
    "backend CPU per delivery",
    "CPU: backend while sending / loadgen's busiest process (share of a core)",
    "Redis: CPU over the run (per delivery), memory",
)


def row(result: dict) -> list:
    s, c, d, lat = result["scenario"], result["connect"], result["deliveries"], result["latency"]
    per = result["server"]["per"] or {}
    slow = d["slow_readers"]
    dropped = result["server"]["layer_full"]
    return [
        result["environment"]["server_mode"],
        s["layer"],
        s["server_workers"],
        f"{s['members']} / {s['rooms']} / {s['senders']}",
        f"{c['connected']} ({c['refused']}, {c['failed']})",
        result["messages"]["sent"],
        f"{d['expected']} / {d['delivered']} / {d['late']} / {d['lost']}",
        " / ".join(format_duration(lat[key]) for key in ("p50", "p99", "p999", "max")) + f" ({lat['count']})",
        f"{slow['delivered']} / {slow['expected']} ({'-' if dropped is None else dropped})"
        if s["slow_readers"]
        else "-",
        "-"
        if per.get("rss_bytes_per_member") is None
        else f"{per['threads_per_member']:.3f} thr, {per['rss_bytes_per_member'] / 1024:.1f} KiB",
        "-" if per.get("cpu_ms_per_delivery") is None else f"{per['cpu_ms_per_delivery']:.3f} ms",
        cpu(result),
        redis(result),
    ]


def redis(result: dict) -> str:
    """Redis's own CPU and memory with its layer ("-" with the in-memory one)."""
    found = result["server"].get("redis")
    if not found:
        return "-"
    if "error" in found:
        return f"not read: {found['error']}"
    each = found["cpu_ms_per_delivery"]
    per_delivery = "" if each is None else f" ({each:.3f} ms)"
    return f"{found['cpu_share']:.0%}{per_delivery}, {found['memory_bytes'] / 2**20:.1f} MiB"


def cpu(result: dict) -> str:
    """What may have bound the run: the backend's CPU over it, and loadgen's own."""
    sending = (result["server"]["per"] or {}).get("cpu_share_sending")
    backend = "-" if sending is None else f"{sending:.0%}"
    share = (result.get("loadgen") or {}).get("cpu_share_max")
    return f"{backend} / {'-' if share is None else f'{share:.0%}'}"


# The percentiles the plot draws each histogram at: to 99.99 %.
QUANTILES = (0.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99)


def curve(result: dict) -> list[tuple[float, float]]:
    """(percentile, latency in ms) of a result's deliveries, from its saved histogram."""
    histogram = histogram_of(result["latency_histogram"])
    if not histogram.get_total_count():
        return []
    return [(q, histogram.get_value_at_percentile(q) / 1000) for q in QUANTILES]


def plot(results: list[tuple[tuple[str, str], dict]], folder: Path) -> list[plots.Plot]:
    drawn = [(key, result, curve(result)) for key, result in results]
    drawn = [item for item in drawn if item[2]]
    if not drawn:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for (_, mode), result, points in drawn:
        s = result["scenario"]
        # x: 1 / (1 - q), so the tail is spread out (p99 at 100, p99.9 at 1000).
        xs = [1 / (1 - q / 100) for q, _ in points]
        label = f"{mode}, {s['layer']}, {s['server_workers']} worker(s) ({result['latency']['count']} deliveries)"
        ax.plot(xs, [ms for _, ms in points], marker="o", markersize=3, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks = [q for q in QUANTILES if q in (50.0, 90.0, 99.0, 99.9, 99.99)]
    ax.set_xticks([1 / (1 - q / 100) for q in ticks], [f"p{q:g}" for q in ticks])
    ax.set_xlabel("percentile of deliveries")
    ax.set_ylabel("send -> receive (ms)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.suptitle("Chat: delivery latency per configuration")
    fig.tight_layout()
    saved = plots.save(fig, folder / "chat-latency.png", [key for key, _, _ in drawn])
    plt.close(fig)
    return [saved]


def section(latest: dict, folder) -> Section:
    results = found(latest)
    if not results:
        return Section([])
    s = results[0][1]["scenario"]
    lines = [
        "## Chat: WebSocket rooms through Django Channels",
        "",
        f"{s['members']} members in {s['rooms']} rooms of the backend (`/ws/rooms/<room>/`, docs/chat.md), connected "
        f"at {s['connect_rate']:g}/s; {s['senders']} of them send {s['message_rate']:g} messages a second between them "
        f"for {s['duration']:g} s, each carrying loadgen's send time. Every delivery to every member of the room "
        "(the sender included) is timed send -> receive into one HdrHistogram. *Expected*: messages sent to a room "
        "x its members; *late*: delivered after the late bound; *lost*: not delivered within the grace after the "
        "last send. Per member: the backend's peak threads and RSS over idle, divided by the members connected; "
        "CPU per delivery: the backend's CPU from the first send to the end of the grace (no connect or close in it) "
        "divided by every delivery made. With the in-memory "
        "layer a room lives in one worker process: with two workers its members on the other never get a message "
        "(lost), which is what the Redis layer is for.",
        "",
        *markdown.table(HEADER, [row(result) for _, result in results]),
        "",
    ]
    drawn = plot(results, Path(folder))
    for item in drawn:
        lines += [item.markdown, ""]
    return Section(lines, drawn)
