"""The lab's experiments: `article` (the article's table, with verdicts), `sweep`
(closed-loop concurrency sweep) and `resources` (memory per thread vs per task, and the
services' threads and memory under load), plus `measure`, the one scenario step they are
made of: drain -> verify -> run, with the services' telemetry sampled throughout.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from asynclab.grammar import written

from . import memory, probe, runner
from .sampler import Sampler
from .units import format_duration

STRATEGIES = {
    "gather": "/api/aggregated/",
    "sequential": "/api/aggregated/sync/",
    "threadpool": "/api/aggregated/threadpool/",
    "async-to-sync": "/api/aggregated/async-to-sync/",
}
# The article's three, the default of the article table and the sweep.
ARTICLE_STRATEGIES = ("gather", "sequential", "threadpool")
TARGETS = ("sync", "async")


@dataclass(frozen=True)
class Lab:
    """Where the services are, where results go, and how to behave between scenarios."""

    gateway: str
    backend: str
    results: Path
    timeout: float = 60.0
    drain: bool = True
    progress: bool | None = None


def aggregation_url(lab: Lab, strategy: str, target: str, n: int, delay: float, client: str | None = None) -> str:
    query = {"n": n, "target": target, "delay": written(delay)}
    if client:
        query["client"] = client
    return lab.gateway.rstrip("/") + STRATEGIES[strategy] + "?" + urlencode(query)


async def measure(lab: Lab, plan: runner.Plan, label: str, allow_errors: bool = False) -> dict:
    """One scenario: wait for idle services, refuse a broken target, then load it."""
    drained = None
    if lab.drain:
        gateway_health, backend_health = await probe.health(lab.gateway), await probe.health(lab.backend)
        probes = [(lab.gateway.rstrip("/") + "/healthz", probe.width(gateway_health))]
        if backend_health:
            probes.append((lab.backend.rstrip("/") + "/api/?delay=0", probe.width(backend_health)))
        drained = await probe.drain(probes)
    for url in plan.urls:
        await probe.verify(url, lab.timeout, allow_errors=allow_errors)
    figures = await observed(lab, plan, label)
    figures["drain"] = drained
    if lab.progress is not False:
        # One line per scenario even without a terminal, so `make lab` shows it is alive.
        print(f"  {label}: {figures['requests']} requests, {figures['rps']:.1f} req/s, p50 "
              f"{format_duration(figures['p50'])}, p99 {format_duration(figures['p99'])}, "
              f"{figures['errors']} errors; {services_line(figures)}", file=sys.stderr, flush=True)
    return figures


def services_line(figures: dict) -> str:
    """Peak threads and memory of each service during a scenario, in one short phrase."""
    parts = []
    for name, seen in (figures.get("services") or {}).items():
        if seen:
            parts.append(f"{name} {seen['threads_peak']} threads, {seen['rss_peak_bytes'] / 2**20:.0f} MiB")
    return "; ".join(parts) or "no telemetry"


async def observed(lab: Lab, plan: runner.Plan, label: str) -> dict:
    """Run the plan while sampling both services' telemetry; figures["services"] has it."""
    async with Sampler({"gateway": lab.gateway, "backend": lab.backend}) as sampler:
        figures = await runner.run(plan, label=label, progress=lab.progress)
    figures["services"] = sampler.summary()
    return figures


# --- article -------------------------------------------------------------------------

# What the article says for each (strategy, backend view), by server mode.
# "one": about one delay; "serial": at least n delays; "timeout": calls time out.
ARTICLE_CLAIMS = {
    ("gather", "sync"): {"asgi": ("timeout", "uvicorn runs the sync views on one thread: their sleeps pile up and calls time out"),
                         None: ("one", "about one delay: the calls overlap")},
    ("gather", "async"): {None: ("one", "about one delay: async all the way down")},
    ("sequential", "sync"): {None: ("serial", "at least n x delay: one call after another")},
    ("sequential", "async"): {None: ("serial", "at least n x delay: one call after another")},
    ("threadpool", "sync"): {None: ("one", "a thread pool is probably sufficient: about one delay")},
    ("threadpool", "async"): {None: ("one", "a thread pool is probably sufficient: about one delay")},
}

# "About one delay" leaves room for the gateway's own fixed costs (clients, threads):
# they do not shrink with the delay, so a short-delay run needs the allowance too.
OVERHEAD_ALLOWANCE = 0.5

REASONS = {
    ("timeout", "asgi"): "since Django 3.2 each ASGI request runs its sync view on its own thread "
                         "(3.1 ran them all on one), so the sleeps overlap instead of piling up; "
                         "DJANGO31_THREADS=on brings 3.1's behaviour back",
}


def claim(strategy: str, target: str, mode: str | None) -> tuple[str, str]:
    claims = ARTICLE_CLAIMS[(strategy, target)]
    return claims.get(mode) or claims[None]


def verdict(expected: str, median: float | None, failed: int, n: int, delay: float, mode: str | None) -> tuple[bool, str]:
    """(matches, one-line reason) for a measured median against the article's claim."""
    if expected == "timeout":
        if failed:
            return True, "calls timed out, as the article says"
        return False, REASONS.get(("timeout", mode), "no call timed out")
    if median is None or failed:
        return False, f"{failed} requests had failed calls: the claim assumed none"
    if expected == "one":
        if median < 2 * delay + OVERHEAD_ALLOWANCE:
            return True, f"{median / delay:.2f} x the delay: the calls overlap"
        return False, f"{median / delay:.2f} x the delay: the calls did not all overlap"
    if median >= n * delay:
        extra = median - n * delay
        return True, f"{n} x {delay:g} s + {extra:.2f} s of per-call client set-up"
    return False, f"under {n} x {delay:g} s: the calls overlapped"


async def article(lab: Lab, n: int = 10, delay: float = 1.0, repeat: int = 3,
                  strategies=ARTICLE_STRATEGIES, targets=TARGETS) -> dict:
    env = await probe.environment(lab.gateway, lab.backend)
    mode = env["server_mode"]
    rows = []
    for strategy in strategies:
        for target in targets:
            expected, said = claim(strategy, target, mode)
            # The article's own HTTP clients, whatever the gateway's default.
            url = aggregation_url(lab, strategy, target, n, delay, client="article")
            # c=1 as the article's browser; the verify request doubles as warm-up.
            plan = runner.Plan(urls=(url,), concurrency=1, duration=None, requests=repeat, timeout=lab.timeout)
            figures = await measure(lab, plan, f"article {strategy}/{target}", allow_errors=expected == "timeout")
            failed = figures["errors"] + figures["partial"]
            matches, reason = verdict(expected, figures["p50"], failed, n, delay, mode)
            rows.append({"strategy": strategy, "target": target, "url": url, "median": figures["p50"],
                         "article": said, "expected": expected, "matches": matches, "reason": reason,
                         "figures": figures})
    return {"experiment": "article", "scenario": {"n": n, "delay": delay, "repeat": repeat, "concurrency": 1},
            "environment": env, "rows": rows}


def article_table(result: dict) -> str:
    lines = [f"article table, SERVER_MODE={result['environment']['server_mode']} "
             f"(n={result['scenario']['n']}, delay={result['scenario']['delay']:g} s, "
             f"median of {result['scenario']['repeat']})",
             f"{'strategy':<11} {'view':<6} {'median':>9}  {'verdict':<8} article says / why"]
    for row in result["rows"]:
        lines.append(f"{row['strategy']:<11} {row['target']:<6} {format_duration(row['median']):>9}  "
                     f"{'matches' if row['matches'] else 'DIFFERS':<8} {row['article']}")
        lines.append(f"{'':<38}-> {row['reason']}")
    return "\n".join(lines)


# --- sweep ---------------------------------------------------------------------------

async def sweep(lab: Lab, levels=(1, 10, 50, 100, 200), strategies=ARTICLE_STRATEGIES, target: str = "sync",
                n: int = 10, delay: float = 0.1, duration: float = 10.0, warmup: float = 3.0,
                client: str = "article") -> dict:
    env = await probe.environment(lab.gateway, lab.backend)
    cells = []
    for strategy in strategies:
        url = aggregation_url(lab, strategy, target, n, delay, client=client)
        for concurrency in levels:
            plan = runner.Plan(urls=(url,), concurrency=concurrency, duration=duration, warmup=warmup, timeout=lab.timeout)
            figures = await measure(lab, plan, f"sweep {strategy} c={concurrency}")
            cells.append({"strategy": strategy, "concurrency": concurrency, "url": url, "figures": figures})
    return {"experiment": "sweep", "environment": env,
            "scenario": {"levels": list(levels), "strategies": list(strategies), "target": target, "n": n,
                         "delay": delay, "duration": duration, "warmup": warmup, "client": client}, "cells": cells}


def sweep_table(result: dict) -> str:
    lines = [f"sweep, SERVER_MODE={result['environment']['server_mode']} (n={result['scenario']['n']}, "
             f"delay={result['scenario']['delay']:g} s, target={result['scenario']['target']}, "
             f"{result['scenario']['duration']:g} s per cell)",
             f"{'strategy':<11} {'c':>4} {'req/s':>8} {'p50':>9} {'p99':>9} {'errors':>6} {'partial':>7}  notes"]
    for cell in result["cells"]:
        f = cell["figures"]
        lines.append(f"{cell['strategy']:<11} {cell['concurrency']:>4} {f['rps']:>8.1f} {format_duration(f['p50']):>9} "
                     f"{format_duration(f['p99']):>9} {f['errors']:>6} {f['partial']:>7}  {', '.join(flags(f)) or 'ok'}")
    return "\n".join(lines)


def flags(figures: dict) -> list[str]:
    """Why a figure should not be trusted as it stands."""
    notes = []
    if figures.get("littles_law") and not figures["littles_law"]["holds"]:
        notes.append(f"Little's law off (x{figures['littles_law']['ratio']:.2f}): window short for latency")
    if figures["loadgen"]["saturated"]:
        notes.append(f"loadgen saturated ({figures['loadgen']['cpu_share']:.0%} CPU)")
    if figures.get("drain") and not figures["drain"]["drained"]:
        notes.append("services were not idle before the run")
    if figures.get("rate") and figures["rate"]["achieved"] < 0.98 * figures["rate"]["target"]:
        notes.append(f"rate {figures['rate']['achieved']:.1f}/s of {figures['rate']['target']:g}/s")
    return notes


# --- resources -----------------------------------------------------------------------

MEMORY_COUNTS = {"threads": 10_000, "tasks_sleep": 100_000, "tasks_event": 100_000}


async def resources(lab: Lab, concurrency: int = 200, strategies=("gather", "threadpool"), target: str = "async",
                    n: int = 5, delay: float = 0.2, duration: float = 8.0, warmup: float = 2.0,
                    memory_counts: dict[str, int] | None = None, client: str = "article") -> dict:
    """Part III of the article: what a thread and a task cost on their own, in this
    container, then what each service really runs at `concurrency` under this SERVER_MODE."""
    env = await probe.environment(lab.gateway, lab.backend)
    parked = {}
    for kind, count in (memory_counts or MEMORY_COUNTS).items():
        # A child interpreter for each, off the event loop.
        parked[kind] = await asyncio.to_thread(memory.measure, kind, count)
        if lab.progress is not False:
            each = parked[kind].get("bytes_each")
            print(f"  memory: {count} {kind}: " + (f"{each / 1024:.1f} KiB each" if each else parked[kind].get("error", "?")),
                  file=sys.stderr, flush=True)
    cells = []
    for strategy in strategies:
        url = aggregation_url(lab, strategy, target, n, delay, client=client)
        # Peaks, not throughput: the window is not stretched to the latency (under wsgi
        # ~20 s at c=200: 10 backend threads, 50 calls/s), so Little's law need not hold.
        # The short default delay keeps that tail, which make lab waits out, short.
        plan = runner.Plan(urls=(url,), concurrency=concurrency, duration=duration, warmup=warmup, timeout=lab.timeout,
                           max_duration=duration)
        figures = await measure(lab, plan, f"resources {strategy} c={concurrency}")
        cells.append({"strategy": strategy, "concurrency": concurrency, "url": url, "figures": figures})
    return {"experiment": "resources", "environment": env, "memory": parked,
            "scenario": {"concurrency": concurrency, "strategies": list(strategies), "target": target, "n": n,
                         "delay": delay, "duration": duration, "warmup": warmup, "client": client}, "cells": cells}


def resources_table(result: dict) -> str:
    s = result["scenario"]
    lines = ["memory in this container (resident, per item):"]
    for kind, seen in result["memory"].items():
        lines.append(f"  {kind:<12} x{seen['count']:>7}: " +
                     (f"{seen['bytes_each'] / 1024:6.1f} KiB each" if "bytes_each" in seen else f"failed: {seen['error']}"))
    lines += [f"services at concurrency {s['concurrency']}, SERVER_MODE={result['environment']['server_mode']} "
              f"(n={s['n']} calls of {s['delay']:g} s to the {s['target']} view):",
              f"{'strategy':<11} {'req/s':>7} {'p50':>9}  {'gateway threads':>15} {'RSS':>8}  {'backend threads':>15} {'RSS':>8}"]
    for cell in result["cells"]:
        f = cell["figures"]
        gw, be = (f["services"].get(name) or {} for name in ("gateway", "backend"))
        lines.append(f"{cell['strategy']:<11} {f['rps']:>7.1f} {format_duration(f['p50']):>9}  "
                     f"{gw.get('threads_peak', '?'):>15} {mib(gw.get('rss_peak_bytes')):>8}  "
                     f"{be.get('threads_peak', '?'):>15} {mib(be.get('rss_peak_bytes')):>8}")
    return "\n".join(lines)


def mib(value: float | None) -> str:
    return "?" if value is None else f"{value / 2**20:.0f} MiB"


# --- results -------------------------------------------------------------------------

def show_unsaved(path: Path, exc: OSError, text: str, what: str) -> None:
    """Put what could not be written on stdout between marker lines, and say so on stderr."""
    begin, end = f"----- loadgen: unsaved {what} begins -----", f"----- loadgen: unsaved {what} ends -----"
    print(f"{begin}\n{text.rstrip()}\n{end}", flush=True)
    print(f"loadgen: cannot write {path}: {exc}; the {what} is on stdout between the lines "
          f"'{begin}' and '{end}'", file=sys.stderr)


def save(lab: Lab, result: dict) -> Path | None:
    """One JSON file per experiment run, named so `ls` sorts them by time.

    None if it could not be written: the JSON is then on stdout (show_unsaved), since a
    run can take an hour and its figures must not be lost with the file.
    """
    stamp = re.sub(r"[^0-9T]", "", result["environment"]["timestamp"])[:15]
    variant = f"-{result['variant']}" if result.get("variant") else ""
    name = f"{stamp}-{result['experiment']}{variant}-{result['environment']['server_mode'] or 'unknown'}.json"
    path = lab.results / name
    text = json.dumps(result, indent=1, default=str) + "\n"
    try:
        lab.results.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as exc:
        show_unsaved(path, exc, text, "result JSON")
        return None
    return path
