"""Experiments on a gateway under stress: `faults` (the backend stops mid-run and comes
back), `soak` (a steady open loop for minutes: errors and memory growth) and `clients`
(every HTTP client choice under the same load)."""

from __future__ import annotations

import asyncio
import statistics
import time

import aiohttp

from asynclab.grammar import written

from . import probe, runner
from .experiments import Lab, aggregation_url, measure, observed
from .sampler import Sampler
from .units import format_duration


def _with(url: str, **extra) -> str:
    return url + "".join(f"&{name}={value}" for name, value in extra.items())


# --- faults ------------------------------------------------------------------------------

async def _watch_backend(url: str, events: list, stop: asyncio.Event, every: float = 0.25) -> None:
    """Record when the backend stops and starts answering /healthz (loadgen's clock)."""
    up = None
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            try:
                async with asyncio.timeout(1):
                    async with session.get(url.rstrip("/") + "/healthz") as response:
                        now_up = response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                now_up = False
            if now_up != up:
                events.append((time.perf_counter(), "up" if now_up else "down"))
                up = now_up
            await asyncio.sleep(every)


def bins(timeline: list, width: float = 1.0) -> list[dict]:
    """The timeline in `width`-second bins: requests, errors (anything not a full 200), p50."""
    found: dict[int, list] = {}
    for at, latency, outcome in timeline:
        found.setdefault(int(at // width), []).append((latency, outcome))
    return [{"t": index * width, "requests": len(items), "errors": sum(o != "ok" for _, o in items),
             "p50": statistics.median(lat for lat, _ in items)} for index, items in sorted(found.items())]


def recovery(timeline_bins: list[dict], down_at: float | None, up_at: float | None) -> dict:
    """Error rate and latency before, during and after an outage, and how long after the
    backend answered again the gateway was back to clean answers at its old latency."""

    def phase(items):
        requests = sum(b["requests"] for b in items)
        errors = sum(b["errors"] for b in items)
        return {"requests": requests, "error_rate": errors / requests if requests else None,
                "p50": statistics.median([b["p50"] for b in items]) if items else None}

    if down_at is None or up_at is None:
        return {"outage_seen": False}
    before = [b for b in timeline_bins if b["t"] + 1 <= down_at]
    during = [b for b in timeline_bins if down_at <= b["t"] < up_at]
    after = [b for b in timeline_bins if b["t"] >= up_at]
    baseline = phase(before)["p50"]
    recovered = next((b["t"] + 1 for b in after if b["errors"] == 0 and baseline is not None
                      and b["p50"] <= 1.5 * baseline + 0.05), None)
    return {"outage_seen": True, "down_at": round(down_at, 2), "up_at": round(up_at, 2),
            "outage": round(up_at - down_at, 2), "before": phase(before), "during": phase(during), "after": phase(after),
            "recovered_after": None if recovered is None else round(recovered - up_at, 2)}


async def faults(lab: Lab, strategy: str = "gather", rate: float = 10.0, duration: float = 45.0, n: int = 5,
                 delay: float = 0.1, deadline: float = 2.0) -> dict:
    """An open loop at `rate` for `duration` while someone (make faults) stops the backend
    and starts it again; loadgen watches the backend's /healthz to know when."""
    env = await probe.environment(lab.gateway, lab.backend)
    url = _with(aggregation_url(lab, strategy, "async", n, delay), deadline=written(deadline))
    await probe.verify(url, lab.timeout)
    events: list = []
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch_backend(lab.backend, events, stop))
    plan = runner.Plan(urls=(url,), rate=rate, duration=duration, timeout=lab.timeout, timeline=True)
    started = time.perf_counter()
    try:
        figures = await observed(lab, plan, f"faults {strategy} at {rate:g}/s")
    finally:
        stop.set()
        await watcher
    # Timeline offsets count from the measurement window's start, which is `started`.
    down = next((at - started for at, what in events if what == "down"), None)
    up = next((at - started for at, what in events if what == "up" and down is not None and at - started > down), None)
    timeline_bins = bins(figures["timeline"])
    return {"experiment": "faults", "environment": env,
            "scenario": {"strategy": strategy, "rate": rate, "duration": duration, "n": n, "delay": delay,
                         "deadline": deadline, "url": url},
            "figures": figures, "bins": timeline_bins, "recovery": recovery(timeline_bins, down, up)}


def faults_table(result: dict) -> str:
    r, s = result["recovery"], result["scenario"]
    lines = [f"faults, SERVER_MODE={result['environment']['server_mode']}: {s['strategy']} at {s['rate']:g}/s for "
             f"{s['duration']:g} s (n={s['n']}, deadline {s['deadline']:g} s)"]
    if not r["outage_seen"]:
        return "\n".join(lines + ["the backend never went down and came back during the run (run it with `make faults`)"])
    lines.append(f"backend down at {r['down_at']:.1f} s, up at {r['up_at']:.1f} s ({r['outage']:.1f} s)")
    for name in ("before", "during", "after"):
        p = r[name]
        rate = "-" if p["error_rate"] is None else f"{p['error_rate']:.0%}"
        lines.append(f"  {name:<7} {p['requests']:>5} requests, errors {rate:>5}, p50 {format_duration(p['p50'])}")
    lines.append("recovered " + ("never, within the run" if r["recovered_after"] is None
                                 else f"{r['recovered_after']:.1f} s after the backend answered again"))
    return "\n".join(lines)


# --- soak --------------------------------------------------------------------------------

def growth(samples: list[dict], after: float) -> dict | None:
    """RSS of a service after warm-up (first sample at or past `after`) vs at the end."""
    settled = [s for s in samples if s["at"] >= after]
    if len(settled) < 2:
        return None
    first, last = settled[0]["rss_bytes"]["now"], settled[-1]["rss_bytes"]["now"]
    return {"rss_after_warmup": first, "rss_end": last, "growth": (last - first) / first if first else None,
            "threads_after_warmup": settled[0]["threads"]["now"], "threads_end": settled[-1]["threads"]["now"]}


async def soak(lab: Lab, strategy: str = "gather", rate: float = 20.0, duration: float = 300.0, warmup: float = 30.0,
               n: int = 5, delay: float = 0.1) -> dict:
    env = await probe.environment(lab.gateway, lab.backend)
    url = aggregation_url(lab, strategy, "async", n, delay)
    await probe.verify(url, lab.timeout)
    plan = runner.Plan(urls=(url,), rate=rate, duration=duration, warmup=warmup, timeout=lab.timeout)
    begin = time.perf_counter()
    async with Sampler({"gateway": lab.gateway, "backend": lab.backend}, interval=2.0) as sampler:
        figures = await runner.run(plan, label=f"soak {strategy} at {rate:g}/s", progress=lab.progress)
    figures["services"] = sampler.summary()
    memory = {name: growth(samples, begin + warmup) for name, samples in sampler.samples.items()}
    return {"experiment": "soak", "environment": env,
            "scenario": {"strategy": strategy, "rate": rate, "duration": duration, "warmup": warmup, "n": n,
                         "delay": delay, "url": url},
            "figures": figures, "memory": memory}


def soak_table(result: dict) -> str:
    f, s = result["figures"], result["scenario"]
    lines = [f"soak, SERVER_MODE={result['environment']['server_mode']}: {s['strategy']} at {s['rate']:g}/s for "
             f"{s['duration']:g} s after {s['warmup']:g} s warm-up: {f['requests']} requests, {f['errors']} errors, "
             f"{f['partial']} partial, p50 {format_duration(f['p50'])}, p99 {format_duration(f['p99'])}"]
    for name, seen in result["memory"].items():
        if seen:
            lines.append(f"  {name}: RSS {seen['rss_after_warmup'] / 2**20:.1f} -> {seen['rss_end'] / 2**20:.1f} MiB "
                         f"({seen['growth']:+.1%}), threads {seen['threads_after_warmup']} -> {seen['threads_end']}")
    return "\n".join(lines)


# --- clients -----------------------------------------------------------------------------

CLIENT_CHOICES = {"gather": ("article", "context", "shared", "aiohttp"),
                  "async-to-sync": ("article", "context", "shared", "aiohttp"),
                  "threadpool": ("article", "context", "shared"), "sequential": ("article", "context", "shared")}


async def clients(lab: Lab, levels=(10, 50), strategies=("gather", "threadpool"), n: int = 10, delay: float = 0.1,
                  duration: float = 8.0, warmup: float = 2.0) -> dict:
    env = await probe.environment(lab.gateway, lab.backend)
    cells = []
    for strategy in strategies:
        for client in CLIENT_CHOICES[strategy]:
            url = _with(aggregation_url(lab, strategy, "async", n, delay), client=client)
            for concurrency in levels:
                plan = runner.Plan(urls=(url,), concurrency=concurrency, duration=duration, warmup=warmup,
                                   timeout=lab.timeout)
                figures = await measure(lab, plan, f"clients {strategy}/{client} c={concurrency}", allow_errors=True)
                cells.append({"strategy": strategy, "client": client, "concurrency": concurrency, "url": url,
                              "figures": figures})
    return {"experiment": "clients", "environment": env,
            "scenario": {"levels": list(levels), "strategies": list(strategies), "n": n, "delay": delay,
                         "duration": duration, "warmup": warmup, "target": "async"}, "cells": cells}


def clients_table(result: dict) -> str:
    s = result["scenario"]
    lines = [f"clients, SERVER_MODE={result['environment']['server_mode']} (n={s['n']} calls of {s['delay']:g} s "
             f"to the async view, {s['duration']:g} s per cell)",
             f"{'strategy':<11} {'client':<8} {'c':>4} {'req/s':>7} {'p50':>9} {'p99':>9} {'errors':>6} {'partial':>7} "
             f"{'gw CPU/agg':>10}"]
    for cell in result["cells"]:
        f = cell["figures"]
        gateway = (f.get("services") or {}).get("gateway") or {}
        cpu = gateway.get("cpu_ms_per_request")
        lines.append(f"{cell['strategy']:<11} {cell['client']:<8} {cell['concurrency']:>4} {f['rps']:>7.1f} "
                     f"{format_duration(f['p50']):>9} {format_duration(f['p99']):>9} {f['errors']:>6} {f['partial']:>7} "
                     + (f"{cpu:>7.1f} ms" if cpu is not None else f"{'-':>10}"))
    return "\n".join(lines)
