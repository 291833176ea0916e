"""The db experiment's terminal table and report section (loadgen/experiments/db.py measures)."""

from __future__ import annotations

from .. import display, markdown
from ..results import mode_order
from . import Section

WHAT = {
    "db": "sync view, sync ORM",
    "db-async": "async view, async ORM API",
    "db-adapter": "async view, sync_to_async(thread_sensitive=True)",
    "db-adapter-executor": "async view, sync_to_async(thread_sensitive=False)",
}


def shown(seen: dict) -> tuple[str, str]:
    """(peak of max, open after) as text: '-' where there is no figure."""
    if not seen.get("reported"):
        return "-", "-"
    return f"{seen['peak']}/{seen['max']}", "?" if seen.get("after") is None else str(seen["after"])


def table(result: dict) -> str:
    s = result["scenario"]
    lines = [
        f"db, SERVER_MODE={result['environment']['server_mode']}, database {result['variant']} "
        f"(gather, n={s['n']} calls of {s['delay']:g} s in the database, {s['duration']:g} s per cell)",
        f"{'target':<20} {'c':>4} {'req/s':>7} {'p50':>9} {'p99':>9} {'errors':>6} {'partial':>7} "
        f"{'be threads':>10} {'conns peak':>10} {'after':>5}",
    ]
    for cell in result["cells"]:
        f = cell["figures"]
        backend = (f.get("services") or {}).get("backend") or {}
        peak, after = shown(f["database"])
        lines.append(
            f"{cell['target']:<20} {cell['concurrency']:>4} {f['rps']:>7.1f} {display.latency(f, 'p50'):>9} "
            f"{display.latency(f, 'p99'):>20} {display.errors(f):>14} {f['partial']:>7} "
            f"{backend.get('threads_peak', '?'):>10} {peak:>10} {after:>5}"
        )
    return "\n".join(lines)


VARIANTS = ("sqlite", "postgres", "postgres+pool")


HEADER = (
    "database",
    "mode",
    "target",
    "c",
    "req/s",
    "p50",
    "p99",
    "errors",
    "partial",
    "backend threads",
    "connections peak",
    "open after",
)


HOW_TO_READ = [
    "How to read it:",
    "",
    "- Under WSGI the backend runs at most workers x threads requests, so it never holds more "
    "connections than that, whatever the load: its threads are the ceiling.",
    "- Under ASGI every call in flight runs its queries on a thread of its own and holds its own "
    "connection until the request ends, so connections follow concurrency until PostgreSQL refuses "
    "them (*partial* results: `too many clients already`).",
    "- The async ORM API (`db-async`) is `sync_to_async` underneath: the same threads and connections "
    "as the sync view.",
    "- `DB_POOL=true` caps connections per worker and turns the excess into waiting: throughput is "
    "then pool size / query time, the same kind of ceiling WSGI's threads give.",
    "- `thread_sensitive=False` (`db-adapter-executor`) runs the ORM on the event loop's default "
    "executor (min(32, cores + 4) threads), which caps its throughput; Django's end-of-request "
    "clean-up never runs there, so its connections are never closed: under ASGI one per executor "
    "thread stays open, under WSGI (a one-off loop per request) every request leaks one, and with a "
    "pool every request keeps a pooled connection until the pool is empty.",
]


def section(latest: dict, folder) -> Section:
    # Each database set-up is an experiment of its own in the results ("db/<variant>").
    keys = [key for key in latest if key[0].startswith("db/")]
    if not keys:
        return Section([])
    order = {name: i for i, name in enumerate(VARIANTS)}
    keys.sort(key=lambda k: (order.get(k[0][3:], len(order)), mode_order(k[1])))
    s = latest[keys[0]]["scenario"]
    rows = []
    for key in keys:
        result = latest[key]
        for cell in result["cells"]:
            f = cell["figures"]
            backend = (f.get("services") or {}).get("backend") or {}
            peak, after = shown(f.get("database") or {})
            rows.append(
                [
                    result["variant"],
                    key[1],
                    cell["target"],
                    cell["concurrency"],
                    f"{f['rps']:.1f}",
                    display.latency(f, "p50"),
                    display.latency(f, "p99"),
                    display.errors(f),
                    f["partial"],
                    backend.get("threads_peak", "?"),
                    peak,
                    after,
                ]
            )
    return Section(
        [
            "## The database: threads and connections",
            "",
            f"gather, n = {s['n']} calls per aggregation, each spending {s['delay']:g} s *in the database* "
            "(`pg_sleep`, or a SQLite function that blocks inside the statement), "
            f"{s['duration']:g} s per cell. Targets: "
            + "; ".join(f"`{target}` = {what}" for target, what in WHAT.items())
            + ".",
            "",
            "*connections* are PostgreSQL's own count (`pg_stat_activity`, client backends of the lab's database, "
            "without the probe's own): the peak during the cell of the total it allows, and how many were still "
            "open 2 s after the load stopped. SQLite has no server to ask. A connection that stays open after "
            "the load is one Django did not close at the end of its request.",
            "",
            *markdown.table(HEADER, rows),
            "",
            *HOW_TO_READ,
            "",
        ]
    )
