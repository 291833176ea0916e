"""The resources experiment's terminal table and report section (loadgen/experiments/resources.py measures)."""

from __future__ import annotations

from .. import bounds, display, markdown
from ..results import modes
from . import Section


def mib(value: float | None, missing: str = "?") -> str:
    return missing if value is None else f"{value / 2**20:.0f} MiB"


def table(result: dict) -> str:
    s = result["scenario"]
    lines = ["memory in this container (resident, per item):"]
    for kind, seen in result["memory"].items():
        lines.append(
            f"  {kind:<12} x{seen['count']:>7}: "
            + (f"{seen['bytes_each'] / 1024:6.1f} KiB each" if "bytes_each" in seen else f"failed: {seen['error']}")
        )
    lines += [
        f"services at concurrency {s['concurrency']}, SERVER_MODE={result['environment']['server_mode']} "
        f"(n={s['n']} calls of {s['delay']:g} s to the {s['target']} view):",
        f"{'strategy':<11} {'req/s':>7} {'p50':>9}  {'gateway threads':>15} {'RSS':>8}"
        f"  {'backend threads':>15} {'RSS':>8}  bound by",
    ]
    for cell in result["cells"]:
        f = cell["figures"]
        gw, be = (f["services"].get(name) or {} for name in ("gateway", "backend"))
        lines.append(
            f"{cell['strategy']:<11} {f['rps']:>7.1f} {display.latency(f, 'p50'):>9}  "
            f"{gw.get('threads_peak', '?'):>15} {mib(gw.get('rss_peak_bytes')):>8}  "
            f"{be.get('threads_peak', '?'):>15} {mib(be.get('rss_peak_bytes')):>8}  "
            f"{bounds.label(bounds.of(cell, result))}"
        )
    return "\n".join(lines)


# Why the services' threads are what they are: what the table alone cannot say.
WHY_THREADS = [
    "Why the threads are what they are:",
    "- **wsgi**: a gunicorn gthread worker runs at most THREADS requests at once, so a service never has "
    "more than workers x threads request threads; the other clients wait in the socket queue, which "
    "shows as latency, not as threads or memory. The gateway's async gather view is the exception: "
    "under WSGI Django runs each call of it in a one-off event loop on a thread of its own, and "
    "httpx resolves the backend's name on a worker thread of that loop (anyio's getaddrinfo), so "
    "its threads outnumber the requests in flight.",
    "- **asgi**: an async view holds no thread while it waits, yet current Django still runs sync code "
    "on a thread for every request: `request_finished`'s sync receivers and `response.close()` go "
    "through `sync_to_async` in the request's own thread-sensitive context, so each request ends on a "
    "fresh thread (and asgiref joins it from one more). With `DB_SIGNALS=on` (Django as shipped) "
    "`request_started`'s database receivers start that thread at the beginning instead, and it lives "
    "as long as the request: one thread per request in flight. The gateway has no database and detaches "
    "them by default (`auto`); the backend has one (SQLite unless `DB=none`), so it keeps them and its "
    "threads follow its calls in flight, even for views that never touch the database. The lab's own "
    "middleware is async-capable and adds no thread.",
    "- **threadpool** adds its own pool per request on top, in either mode: a sync view that fans out "
    "on threads pays for threads however it is served.",
]


HEADER = (
    "mode",
    "DB_SIGNALS gateway / backend",
    "strategy",
    "req/s",
    "p50",
    "gateway in flight",
    "gateway threads",
    "gateway RSS",
    "backend in flight",
    "backend threads",
    "backend RSS",
    "gateway CPU / request",
    "bound by",
)


def section(latest: dict, folder) -> Section:
    found = modes(latest, "resources")
    if not found:
        return Section([])
    parked_rows = []
    per: dict[str, list[float]] = {}
    for mode in found:
        for kind, seen in latest[("resources", mode)]["memory"].items():
            each = seen.get("bytes_each")
            if each:
                per.setdefault(kind, []).append(each)
            parked_rows.append(
                [
                    mode,
                    kind.replace("_", " "),
                    seen["count"],
                    f"{each / 1024:.1f} KiB" if each else f"failed: {seen.get('error')}",
                ]
            )
    lines = [
        "## Resources: threads vs tasks",
        "",
        "Resident memory per parked thread and per parked asyncio task, each measured in a fresh "
        "interpreter inside the loadgen container:",
        "",
        *markdown.table(("mode run", "what", "count", "per item"), parked_rows),
    ]
    if per.get("threads") and per.get("tasks_event"):
        thread, task = min(per["threads"]), max(per["tasks_event"] + per.get("tasks_sleep", []))
        lines += [
            "",
            f"A parked thread costs about {thread / task:.0f}x a parked task ({thread / 1024:.1f} vs "
            f'{task / 1024:.1f} KiB); the article\'s "about 2 KB per task" holds as an upper bound. '
            "The thread's 8 MB stack is address space, not memory: only touched pages count.",
        ]
    rows = []
    for mode in found:
        result = latest[("resources", mode)]
        signals = " / ".join(
            (result["environment"].get(name) or {}).get("db_signals") or "?" for name in ("gateway", "backend")
        )
        for cell in result["cells"]:
            f = cell["figures"]
            gw, be = ((f.get("services") or {}).get(name) or {} for name in ("gateway", "backend"))
            cpu = gw.get("cpu_ms_per_request")
            rows.append(
                [
                    mode,
                    signals,
                    cell["strategy"],
                    f"{f['rps']:.1f}",
                    display.latency(f, "p50"),
                    gw.get("in_flight_peak", "-"),
                    gw.get("threads_peak", "-"),
                    mib(gw.get("rss_peak_bytes"), "-"),
                    be.get("in_flight_peak", "-"),
                    be.get("threads_peak", "-"),
                    mib(be.get("rss_peak_bytes"), "-"),
                    f"{cpu:.1f} ms" if cpu is not None else "-",
                    bounds.label(bounds.of(cell, result)),
                ]
            )
    s = latest[("resources", found[0])]["scenario"]
    lines += [
        "",
        f"The services under load: closed loop at concurrency {s['concurrency']}, n = {s['n']} calls of "
        f"{s['delay']:g} s to the backend's {s['target']} view; peaks over the scenario, summed over each "
        "service's processes. The window is not stretched to the latency here: read the peaks, and "
        "throughput only roughly. *bound by* as in the sweep.",
        "",
        *markdown.table(HEADER, rows),
        "",
        *WHY_THREADS,
        "",
    ]
    return Section(lines)
