"""`report`: every result in results/ rendered to results/report.md with PNG plots.

The newest file of each (experiment, server mode) is the one reported, so re-running an
experiment replaces its figures; older files stay on disk as history.
"""

from __future__ import annotations

import json
from pathlib import Path

from .experiments import flags, show_unsaved
from .units import format_duration

MODES = ("wsgi", "asgi", "runserver")


def load(results: Path) -> dict[tuple[str, str], dict]:
    """Newest result per (experiment, server_mode); unreadable files are skipped, not fatal."""
    latest: dict[tuple[str, str], dict] = {}
    for path in sorted(results.glob("*.json")):
        try:
            result = json.loads(path.read_text())
            # db runs once per database set-up: each variant is an experiment of its own.
            experiment = result["experiment"] + (f"/{result['variant']}" if result.get("variant") else "")
            key = (experiment, result["environment"]["server_mode"] or "unknown")
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
        lines += [f"### {mode}", "", "| strategy | concurrency | req/s | p50 | p90 | p99 | max | errors | partial "
                  "| gateway threads / RSS | backend threads / RSS | notes |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for cell in result["cells"]:
            f = cell["figures"]
            lines.append(f"| {cell['strategy']} | {cell['concurrency']} | {f['rps']:.1f} | {format_duration(f['p50'])} | "
                         f"{format_duration(f['p90'])} | {format_duration(f['p99'])} | {format_duration(f['max'])} | "
                         f"{f['errors']} | {f['partial']} | {_service(f, 'gateway')} | {_service(f, 'backend')} | "
                         f"{'; '.join(flags(f)) or ''} |")
        lines.append("")
    lines += ["Threads and RSS are each service's peaks during the cell, summed over its processes (from "
              "its `/telemetry`, polled every 0.5 s). Cells flagged *Little's law off* had a window too short "
              "for their latency (concurrency should equal throughput x mean latency in a closed loop): read "
              "them as lower bounds on latency and rough throughput.", ""]
    return lines


def _service(figures: dict, name: str) -> str:
    seen = (figures.get("services") or {}).get(name)
    return "-" if not seen else f"{seen['threads_peak']} / {seen['rss_peak_bytes'] / 2**20:.0f} MiB"


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
    resources = resources_plot(latest, modes, out, plt, matplotlib)
    return made + ([resources] if resources else [])


def resources_plot(latest: dict, modes: list[str], out: Path, plt, matplotlib) -> Path | None:
    """Peak threads (top) and RSS (bottom) per service vs concurrency, one column per mode."""
    if not any((c["figures"].get("services") or {}).get("gateway") for m in modes for c in latest[("sweep", m)]["cells"]):
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
                axes[0][column].plot(xs, [seen["threads_peak"] for _, seen in points], marker="o", linestyle=style,
                                     color=f"C{colour}", label=f"{strategy} {service}")
                axes[1][column].plot(xs, [seen["rss_peak_bytes"] / 2**20 for _, seen in points], marker="o",
                                     linestyle=style, color=f"C{colour}", label=f"{strategy} {service}")
        axes[0][column].set_title(f"SERVER_MODE={mode}")
        axes[1][column].set_xlabel("concurrency (closed loop)")
        for row in (0, 1):
            axes[row][column].set_xscale("log")
            axes[row][column].set_xticks(sorted({c["concurrency"] for c in cells}))
            axes[row][column].xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
            axes[row][column].xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            axes[row][column].grid(True, alpha=0.3)
    axes[0][0].set_ylabel("peak threads (gateway solid, backend dashed)")
    axes[1][0].set_ylabel("peak RSS (MiB)")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    path = out / "sweep-resources.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


PARTS_EXPLAINED = ("*rest*: outside the gateway's handler (network, waiting for a worker, the server and Django "
                   "around the middleware); *gateway*: its handler outside the fan-out; *calls*: the fan-out's time "
                   "around the backend's handler (HTTP client, the hop, queueing in the backend, Django outside its "
                   "handler); *backend*: backend handler time on the fan-out's critical path (the slowest call, or "
                   "every call for sequential).")


def _parts(figures: dict) -> list[str] | None:
    b = figures.get("breakdown")
    if not b:
        return None
    return [format_duration(b["latency"])] + [f"{format_duration(b['parts'][p])} ({b['shares'][p]:.0%})"
                                               for p in ("rest", "gateway", "calls", "backend")]


def breakdown_section(latest: dict) -> list[str]:
    """Where the time went: each client latency split with the services' Server-Timing."""
    rows = []
    for mode in _modes(latest, "article"):
        for row in latest[("article", mode)]["rows"]:
            parts = _parts(row.get("figures") or {})
            if parts:
                rows.append([mode, f"article, {row['target']} view, c=1", row["strategy"], *parts])
    for mode in _modes(latest, "sweep"):
        for cell in latest[("sweep", mode)]["cells"]:
            parts = _parts(cell["figures"])
            if parts:
                rows.append([mode, f"sweep c={cell['concurrency']}", cell["strategy"], *parts])
    if not rows:
        return []
    lines = ["## Where the time went", "",
             "Mean client latency split with the `Server-Timing` each service sends (means add up; medians "
             "would not). " + PARTS_EXPLAINED, "",
             "| mode | scenario | strategy | latency | rest | gateway | calls | backend |", "|---|---|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def resources_section(latest: dict) -> list[str]:
    """The article's Part III: what a thread and a task cost, and what the services ran."""
    modes = _modes(latest, "resources")
    if not modes:
        return []
    lines = ["## Resources: threads vs tasks", "",
             "Resident memory per parked thread and per parked asyncio task, each measured in a fresh "
             "interpreter inside the loadgen container:", "",
             "| mode run | what | count | per item |", "|---|---|---|---|"]
    per: dict[str, list[float]] = {}
    for mode in modes:
        for kind, seen in latest[("resources", mode)]["memory"].items():
            each = seen.get("bytes_each")
            if each:
                per.setdefault(kind, []).append(each)
            lines.append(f"| {mode} | {kind.replace('_', ' ')} | {seen['count']} | "
                         + (f"{each / 1024:.1f} KiB" if each else f"failed: {seen.get('error')}") + " |")
    if per.get("threads") and per.get("tasks_event"):
        thread, task = min(per["threads"]), max(per["tasks_event"] + per.get("tasks_sleep", []))
        lines += ["", f"A parked thread costs about {thread / task:.0f}x a parked task ({thread / 1024:.1f} vs "
                      f"{task / 1024:.1f} KiB); the article's \"about 2 KB per task\" holds as an upper bound. "
                      "The thread's 8 MB stack is address space, not memory: only touched pages count."]
    s = latest[("resources", modes[0])]["scenario"]
    lines += ["", f"The services under load: closed loop at concurrency {s['concurrency']}, n = {s['n']} calls of "
                  f"{s['delay']:g} s to the backend's {s['target']} view; peaks over the scenario, summed over each "
                  "service's processes. The window is not stretched to the latency here: read the peaks, and "
                  "throughput only roughly.", "",
              "| mode | DB_SIGNALS gateway / backend | strategy | req/s | p50 | gateway in flight | gateway threads | gateway RSS | "
              "backend in flight | backend threads | backend RSS | gateway CPU / request |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for mode in modes:
        result = latest[("resources", mode)]
        signals = " / ".join((result["environment"].get(name) or {}).get("db_signals") or "?"
                             for name in ("gateway", "backend"))
        for cell in result["cells"]:
            f = cell["figures"]
            gw, be = ((f.get("services") or {}).get(name) or {} for name in ("gateway", "backend"))

            def mib(seen):
                return f"{seen['rss_peak_bytes'] / 2**20:.0f} MiB" if seen else "-"

            cpu = gw.get("cpu_ms_per_request")
            lines.append(f"| {mode} | {signals} | {cell['strategy']} | {f['rps']:.1f} | {format_duration(f['p50'])} | "
                         f"{gw.get('in_flight_peak', '-')} | {gw.get('threads_peak', '-')} | {mib(gw)} | "
                         f"{be.get('in_flight_peak', '-')} | {be.get('threads_peak', '-')} | {mib(be)} | "
                         + (f"{cpu:.1f} ms" if cpu is not None else "-") + " |")
    lines += ["", "Why the threads are what they are:",
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
              "on threads pays for threads however it is served.", ""]
    return lines


def clients_section(latest: dict) -> list[str]:
    modes = _modes(latest, "clients")
    if not modes:
        return []
    s = latest[("clients", modes[0])]["scenario"]
    lines = ["## HTTP clients", "",
             f"Closed loop, n = {s['n']} calls of {s['delay']:g} s to the backend's async view, {s['duration']:g} s "
             "per cell. *gateway CPU* is per aggregation, from its `/telemetry`.", "",
             "| mode | strategy | client | concurrency | req/s | p50 | p99 | errors | partial | gateway CPU |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for mode in modes:
        for cell in latest[("clients", mode)]["cells"]:
            f = cell["figures"]
            cpu = ((f.get("services") or {}).get("gateway") or {}).get("cpu_ms_per_request")
            lines.append(f"| {mode} | {cell['strategy']} | {cell['client']} | {cell['concurrency']} | {f['rps']:.1f} | "
                         f"{format_duration(f['p50'])} | {format_duration(f['p99'])} | {f['errors']} | {f['partial']} | "
                         + (f"{cpu:.1f} ms" if cpu is not None else "-") + " |")
    return lines + [""]


DB_VARIANTS = ("sqlite", "postgres", "postgres+pool")


def db_section(latest: dict) -> list[str]:
    from .database import WHAT, shown

    keys = [key for key in latest if key[0].startswith("db/")]
    if not keys:
        return []
    order = {name: i for i, name in enumerate(DB_VARIANTS)}
    keys.sort(key=lambda k: (order.get(k[0][3:], len(order)), MODES.index(k[1]) if k[1] in MODES else len(MODES)))
    s = latest[keys[0]]["scenario"]
    lines = ["## The database: threads and connections", "",
             f"gather, n = {s['n']} calls per aggregation, each spending {s['delay']:g} s *in the database* "
             "(`pg_sleep`, or a SQLite function that blocks inside the statement), "
             f"{s['duration']:g} s per cell. Targets: "
             + "; ".join(f"`{target}` = {what}" for target, what in WHAT.items()) + ".", "",
             "*connections* are PostgreSQL's own count (`pg_stat_activity`, client backends of the lab's database, "
             "without the probe's own): the peak during the cell of the total it allows, and how many were still "
             "open 2 s after the load stopped. SQLite has no server to ask. A connection that stays open after "
             "the load is one Django did not close at the end of its request.", "",
             "| database | mode | target | c | req/s | p50 | p99 | errors | partial | backend threads | connections peak | open after |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for key in keys:
        result = latest[key]
        for cell in result["cells"]:
            f = cell["figures"]
            backend = (f.get("services") or {}).get("backend") or {}
            peak, after = shown(f.get("database") or {})
            lines.append(f"| {result['variant']} | {key[1]} | {cell['target']} | {cell['concurrency']} | {f['rps']:.1f} | "
                         f"{format_duration(f['p50'])} | {format_duration(f['p99'])} | {f['errors']} | {f['partial']} | "
                         f"{backend.get('threads_peak', '?')} | {peak} | {after} |")
    lines += ["", "How to read it:", "",
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
              "pool every request keeps a pooled connection until the pool is empty.", ""]
    return lines


def faults_section(latest: dict) -> list[str]:
    modes = _modes(latest, "faults")
    if not modes:
        return []
    lines = ["## Backend stopped and started (`make faults`)", "",
             "Open loop through the gateway while the backend is stopped and started again; errors are "
             "answers that were not a full 200 (all calls failed: 502; some: partial).", "",
             "| mode | outage | errors before | during | after | p50 before | during | after | clean again after |",
             "|---|---|---|---|---|---|---|---|---|"]
    for mode in modes:
        r = latest[("faults", mode)]["recovery"]
        if not r.get("outage_seen"):
            lines.append(f"| {mode} | not seen | | | | | | | |")
            continue

        def rate(p):
            return "-" if p["error_rate"] is None else f"{p['error_rate']:.0%}"

        lines.append(f"| {mode} | {r['outage']:.1f} s | {rate(r['before'])} | {rate(r['during'])} | {rate(r['after'])} | "
                     f"{format_duration(r['before']['p50'])} | {format_duration(r['during']['p50'])} | "
                     f"{format_duration(r['after']['p50'])} | "
                     + ("never" if r["recovered_after"] is None else f"{r['recovered_after']:.1f} s") + " |")
    return lines + [""]


def soak_section(latest: dict) -> list[str]:
    modes = _modes(latest, "soak")
    if not modes:
        return []
    lines = ["## Soak", "", "| mode | load | requests | errors | p50 | p99 | gateway RSS growth | backend RSS growth |",
             "|---|---|---|---|---|---|---|---|"]
    for mode in modes:
        result = latest[("soak", mode)]
        f, s = result["figures"], result["scenario"]

        def grew(name):
            seen = result["memory"].get(name)
            return "-" if not seen or seen["growth"] is None else f"{seen['growth']:+.1%}"

        lines.append(f"| {mode} | {s['strategy']} at {s['rate']:g}/s for {s['duration']:g} s | {f['requests']} | "
                     f"{f['errors']} | {format_duration(f['p50'])} | {format_duration(f['p99'])} | {grew('gateway')} | "
                     f"{grew('backend')} |")
    return lines + ["", "RSS growth compares each service's memory after the warm-up with the end of the run.", ""]


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


def render(results: Path) -> Path | None:
    latest = load(results)
    lines = ["# asynclab report", "",
             "Generated by `loadgen report` from the newest result of each experiment and server mode in "
             f"`{results.name}/`. Medians and percentiles from HdrHistogram; every figure's settings are in its JSON file.", ""]
    body = (article_section(latest) + sweep_section(latest, results) + breakdown_section(latest)
            + resources_section(latest) + db_section(latest) + clients_section(latest) + faults_section(latest) + soak_section(latest)
            + runs_section(latest) + bench_section(latest))
    lines += body or ["No results yet: run `docker compose run --rm loadgen` (or `make lab`) first.", ""]
    lines += environment_section(latest) if latest else []
    path = results / "report.md"
    text = "\n".join(lines)
    try:
        path.write_text(text)
    except OSError as exc:
        show_unsaved(path, exc, text, "report")
        return None
    return path
