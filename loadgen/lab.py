"""The lab under test (`Lab`) and the scenario step every experiment is made of:
drain -> verify -> run, with the services' telemetry sampled throughout."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from asynclab.api import STRATEGIES
from asynclab.grammar import written

from . import budgets, display, probe
from .engine import LOCAL, Engine
from .plan import Plan
from .sampler import Sampler
from .stopped import JOURNAL

# How many times a scenario is measured again while the host is busy with other work.
RERUNS = 2


@dataclass(frozen=True)
class Lab:
    """Where the services are, where results go, and how to behave between scenarios."""

    gateway: str
    backend: str
    results: Path
    timeout: float = 60.0
    drain: bool = True
    progress: bool | None = None
    # Who runs each measurement: this machine, or replicas (engine.py); chosen once by the CLI.
    engine: Engine = LOCAL


def aggregation_url(
    lab: Lab, strategy: str, target: str, n: int, delay: float, client: str | None = None, **extra: str
) -> str:
    query = {"n": n, "target": target, "delay": written(delay)}
    if client:
        query["client"] = client
    return lab.gateway.rstrip("/") + STRATEGIES[strategy] + "?" + urlencode({**query, **extra})


async def measure(lab: Lab, plan: Plan, label: str, allow_errors: bool = False) -> dict:
    """One scenario: wait for idle services, refuse a broken target, then load it; measured
    again (up to RERUNS times) while the host was busy with someone else's work."""
    earlier = []
    for attempt in range(1 + RERUNS):
        figures = await _measure_once(lab, plan, label, allow_errors)
        disturbed = budgets.disturbance(figures)
        if disturbed is None:
            break
        earlier.append({**disturbed, "rps": figures["rps"], "p50": figures["p50"]})
        if attempt < RERUNS and lab.progress is not False:
            print(f"  {label}: {disturbed_text(disturbed)}: measuring it again", file=sys.stderr, flush=True)
    if earlier:
        # Kept, and marked: a cell that stayed disturbed is left out of every ranking.
        figures["reruns"] = {"disturbed": earlier, "clean": disturbed is None}
        figures["disturbed"] = disturbed
    if lab.progress is not False:
        # One line per scenario even without a terminal, so `make lab` shows it is alive.
        print(
            f"  {label}: {figures['requests']} requests, {figures['rps']:.1f} ok/s, p50 "
            f"{display.latency(figures, 'p50')}, p99 {display.latency(figures, 'p99')}, "
            f"{display.errors(figures)} errors; {services_line(figures)}"
            + (f"; DISTURBED: {disturbed_text(disturbed)}" if disturbed else ""),
            file=sys.stderr,
            flush=True,
        )
    return figures


def disturbed_text(disturbed: dict) -> str:
    text = f"the host was {disturbed['host_busy']:.0%} busy, the lab's own {disturbed['lab_busy']:.0%}: neighbours"
    return text.replace("%", " %")


async def _measure_once(lab: Lab, plan: Plan, label: str, allow_errors: bool) -> dict:
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
    return figures


async def observed(lab: Lab, plan: Plan, label: str) -> dict:
    """Run the plan while sampling both services' telemetry; figures["services"] has it."""
    JOURNAL.starting(label)
    async with Sampler({"gateway": lab.gateway, "backend": lab.backend}, meter=lab.results) as sampler:
        figures = await lab.engine.run(plan, label=label, progress=lab.progress)
        # Kept at once (the services' figures join the same dict below): a stop while the
        # sampler closes loses nothing measured.
        JOURNAL.finished(label, figures)
    # Over the measurement window itself, on loadgen's clock: not the warm-up, not the drain
    # (a counted run's window is the whole run: polls bracketing it hold all of it).
    figures["services"] = sampler.summary(tuple(figures["window_at"]), whole=plan.requests is not None)
    # The engine's work for the lab over the same window, where a campaign meters it.
    figures["engine"] = {"cpu_seconds": sampler.engine_cpu(tuple(figures["window_at"]))}
    return figures


def services_line(figures: dict) -> str:
    """Peak threads and memory of each service during a scenario, in one short phrase."""
    parts = []
    for name, seen in (figures.get("services") or {}).items():
        if seen:
            parts.append(f"{name} {seen['threads_peak']} threads, {seen['rss_peak_bytes'] / 2**20:.0f} MiB")
    return "; ".join(parts) or "no telemetry"


def flags(figures: dict) -> list[str]:
    """Why a figure should not be trusted as it stands."""
    notes = []
    if figures.get("littles_law") and not figures["littles_law"]["holds"]:
        notes.append(f"Little's law off (x{figures['littles_law']['ratio']:.2f}): window short for latency")
    if figures["loadgen"]["saturated"]:
        notes.append(saturation(figures))
    if figures.get("drain") and not figures["drain"]["drained"]:
        notes.append("services were not idle before the run")
    if figures.get("rate") and figures["rate"]["achieved"] < 0.98 * figures["rate"]["target"]:
        notes.append(f"rate {figures['rate']['achieved']:.1f}/s of {figures['rate']['target']:g}/s")
    if figures.get("disturbed"):
        notes.append(f"DISTURBED: {disturbed_text(figures['disturbed'])} (left out of rankings)")
    if figures["loadgen"].get("lagged"):
        lag = (figures["loadgen"].get("loop_lag_ms") or {}).get("median")
        notes.append(f"loadgen's event loop lagged ({lag:.0f} ms in the median tick)" if lag else "loadgen lagged")
    return notes


def saturation(figures: dict) -> str:
    """The note for a run where loadgen, not the server, set the pace, and what to do."""
    loadgen = figures["loadgen"]
    count = loadgen.get("workers", 1)
    if loadgen.get("replicas"):
        # Replicas have a core each somewhere else: more of them, not more processes here.
        busiest = loadgen.get("busiest_share", loadgen["cpu_share"])
        replicas = loadgen["replicas"]
        advice = (
            f"add replicas (LOADGEN_REPLICAS={replicas + 1})"
            if count == replicas
            else f"only {count} of {replicas} replicas had clients to run: more concurrency spreads it"
        )
        return f"loadgen saturated ({busiest:.0%} CPU in the busiest of {count} replicas): {advice}"
    if count == 1:
        return f"loadgen saturated ({loadgen['cpu_share']:.0%} CPU): add --workers 2"
    busiest = loadgen.get("busiest_share", loadgen["cpu_share"])
    cores = (figures.get("machine") or {}).get("cores")
    # More processes than cores only share the same cores out thinner.
    advice = (
        f"add --workers {count + 1}" if not cores or count < cores else f"no core left for more --workers ({cores})"
    )
    return f"loadgen saturated ({busiest:.0%} CPU in the busiest of {count} processes): {advice}"


def closed_loop(
    lab: Lab, url: str, concurrency: int, duration: float, warmup: float, workers: int = 1, **extra
) -> Plan:
    """The plan every closed-loop cell runs: `concurrency` requests in flight on `url`."""
    return Plan(
        workers=workers,
        urls=(url,),
        concurrency=concurrency,
        duration=duration,
        warmup=warmup,
        timeout=lab.timeout,
        **extra,
    )


def open_loop(lab: Lab, url: str, rate: float, duration: float, warmup: float, workers: int = 1) -> Plan:
    """The plan every open-loop cell runs: `rate` requests a second on `url`, however slowly
    they come back (latency from each one's intended send)."""
    return Plan(workers=workers, urls=(url,), rate=rate, duration=duration, warmup=warmup, timeout=lab.timeout)
