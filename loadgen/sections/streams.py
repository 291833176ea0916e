"""The streams experiment's terminal table and report section (loadgen/experiments/streams.py measures)."""

from __future__ import annotations

from .. import display, markdown
from ..experiments.streams import (
    OUTCOMES,
    _load,
    _per,
    line,
)
from ..results import modes
from ..units import format_duration
from . import Section


def table(result: dict) -> str:
    s = result["scenario"]
    head = (
        f"streams, SERVER_MODE={result['environment']['server_mode']}: events every {s['interval']:g} s, "
        f"all open for {s['hold']:g} s after a {s['ramp']:g} s ramp; ordinary requests at {s['rate']:g}/s"
    )
    return "\n".join([head, *("  " + line(cell) for cell in result["cells"])])


HEADER = (
    "mode",
    "view",
    "streams",
    "held at once",
    "completed / waiting / refused / cut / failed",
    "first event p50 / p99",
    "event lag p50 / p99",
    "per stream (threads, RSS)",
    "ordinary p50 / p99",
    "ordinary errors",
    "open after",
    "load (opened/s, CPU, machine busy)",
)


def rows(result: dict, mode: str) -> list[list]:
    found = []
    for cell in result["cells"]:
        s, f = cell["streams"], cell["figures"]
        o = s["outcomes"]
        service = "gateway" if cell["view"] == "gateway" else "backend"
        found.append(
            [
                mode,
                cell["view"],
                cell["concurrency"],
                s["held_peak"],
                " / ".join(str(o[key]) for key in OUTCOMES),
                f"{format_duration(s['first_event']['p50'])} / {format_duration(s['first_event']['p99'])}",
                f"{format_duration(s['lag']['p50'])} / {format_duration(s['lag']['p99'])}",
                f"{service}: {_per(cell, service)}",
                f"{display.latency(f, 'p50')} / {display.latency(f, 'p99')}",
                f"{display.errors(f)} of {f['requests']}",
                "-" if s["open_after"]["open"] is None else s["open_after"]["open"],
                _load(cell),
            ]
        )
    return found


def section(latest: dict, folder) -> Section:
    found = modes(latest, "streams")
    if not found:
        return Section([])
    from .. import streamplots

    s = latest[("streams", found[0])]["scenario"]
    lines = [
        "## Long-lived connections: server-sent event streams",
        "",
        f"N streams per view opened over {s['ramp']:g} s, each open long enough that all are open at once for "
        f"{s['hold']:g} s, an event every {s['interval']:g} s (the gateway's: {s['fanout']} backend calls one after "
        f"another, an event as each completes); meanwhile ordinary requests at {s['rate']:g}/s to the same service "
        "(`/api/?delay=0` on the backend, gather of one call on the gateway). *Waiting*: connected but given no "
        "event within the cell (queued behind the server's threads); *refused*: connect error or 503; *cut*: "
        "ended before its last event. Event lag is arrival minus the time the event was due (HdrHistogram); "
        "per stream is the service's peak threads and RSS over idle, divided by the streams held at once; "
        "*open after* is the service's own gauge once the cell is over.",
        "",
    ]
    for mode in found:
        lines += [*markdown.table(HEADER, rows(latest[("streams", mode)], mode)), ""]
    drawn = streamplots.held(latest, found, folder)
    for plot in drawn:
        lines += [plot.markdown, ""]
    lines += EXPLAINED
    return Section(lines, drawn)


EXPLAINED = [
    "What the figures say:",
    "",
    "- **A thread per stream.** Under wsgi (gunicorn gthread, WORKERS x THREADS = 10) ten streams hold every "
    "thread; stream 11 connects (gunicorn accepts it) and *waits*: no first event until a stream ends, and the "
    "ordinary requests queue behind them. Under asgi an async stream is a task: thousands are held by one "
    "worker, each costing kilobytes, not a thread.",
    "- **Mismatched streams are buffered.** Under asgi the sync view's generator is read whole by "
    "`sync_to_async(list)` before anything is sent, and under wsgi the async view's by `async_to_sync`: first "
    "event and every event's lag are the stream's whole length. Under asgi each such stream also holds a thread "
    "for its length, and a client that leaves does not stop it (the thread runs the list to its end).",
    "- **Django's per-request thread under asgi.** With database receivers on (`DB_SIGNALS=on`, and `auto` with a "
    "database: the backend's SQLite) Django runs `request_started`/`request_finished`'s receivers through "
    "`sync_to_async`, which makes the request's thread-sensitive executor a thread that lives until the response "
    "is sent: an async stream then holds an idle thread for its whole length, about one thread per open stream. "
    "`DB_SIGNALS=off` (or `DB=none`), or `LEAN=true`, takes it away (docs/streams.md).",
    "- **The gateway's stream** holds a client socket and a backend call per stream: its call budget "
    "(`GATEWAY_MAX_CALLS`, reserved up front for the whole fan-out) refuses with 503 past budget / n streams.",
    "",
]
