"""`resources`, the article's Part III: what a parked thread and a parked task cost in this
container, then the threads and memory each service really runs under load."""

from __future__ import annotations

import asyncio
import sys

from .. import bounds, display, markdown, memory
from ..lab import Lab, aggregation_url, closed_loop, measure
from ..options import aggregation, arguments, at_most, client, option, positive, strategies, target, window
from ..probe import environment
from ..results import modes

HELP = "memory per thread vs per task, and the services' threads and memory under load"

MEMORY_COUNTS = {"threads": 10_000, "tasks_sleep": 100_000, "tasks_event": 100_000}


def options(parser) -> None:
    option(
        parser,
        "--concurrency",
        "-c",
        env="LOADGEN_CONCURRENCY",
        default=200,
        type=positive(int),
        help="closed-loop concurrency",
    )
    strategies(parser, ("gather", "threadpool"))
    target(parser, "async")
    aggregation(parser, fanout=5, delay=0.2)
    window(parser, 8.0, 2.0, per="scenario")
    option(
        parser,
        "--threads",
        env="LOADGEN_THREADS",
        default=10_000,
        type=at_most(int, 50_000),
        help="idle threads to measure (0: none; make lab measures them in its first mode only)",
    )
    client(parser, "article", help="the gateway's HTTP client")
    option(
        parser,
        "--tasks",
        env="LOADGEN_TASKS",
        default=100_000,
        type=at_most(int, 1_000_000),
        help="parked asyncio tasks to measure (0: none)",
    )


async def command(args, lab: Lab) -> dict:
    counts = {"threads": args.threads, "tasks_sleep": args.tasks, "tasks_event": args.tasks}
    return await run(lab, **arguments(args, run, without=("memory_counts",)), memory_counts=counts)


async def run(
    lab: Lab,
    concurrency: int = 200,
    strategies=("gather", "threadpool"),
    target: str = "async",
    n: int = 5,
    delay: float = 0.2,
    duration: float = 8.0,
    warmup: float = 2.0,
    memory_counts: dict[str, int] | None = None,
    client: str = "article",
    workers: int = 1,
) -> dict:
    env = await environment(lab)
    parked = {}
    for kind, count in (MEMORY_COUNTS if memory_counts is None else memory_counts).items():
        if not count:
            continue
        # A child interpreter for each, off the event loop.
        parked[kind] = await asyncio.to_thread(memory.measure, kind, count)
        if lab.progress is not False:
            each = parked[kind].get("bytes_each")
            print(
                f"  memory: {count} {kind}: "
                + (f"{each / 1024:.1f} KiB each" if each else parked[kind].get("error", "?")),
                file=sys.stderr,
                flush=True,
            )
    cells = []
    for strategy in strategies:
        url = aggregation_url(lab, strategy, target, n, delay, client=client)
        # Peaks, not throughput: the window is not stretched to the latency (under wsgi
        # ~20 s at c=200: 10 backend threads, 50 calls/s), so Little's law need not hold.
        # The short default delay keeps that tail, which make lab waits out, short.
        plan = closed_loop(lab, url, concurrency, duration, warmup, workers, max_duration=duration)
        figures = await measure(lab, plan, f"resources {strategy} c={concurrency}")
        cells.append({"strategy": strategy, "concurrency": concurrency, "url": url, "figures": figures})
    result = {
        "experiment": "resources",
        "environment": env,
        "memory": parked,
        "scenario": {
            "concurrency": concurrency,
            "strategies": list(strategies),
            "target": target,
            "n": n,
            "delay": delay,
            "duration": duration,
            "warmup": warmup,
            "client": client,
        },
        "cells": cells,
    }
    for cell in cells:
        cell["bound"] = bounds.of(cell, result)
    return result


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


def section(latest: dict, folder) -> list[str]:
    found = modes(latest, "resources")
    if not found:
        return []
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
    return lines
