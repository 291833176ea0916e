"""The lab under test (`Lab`) and the scenario step every experiment is made of:
drain -> verify -> run, with the services' telemetry sampled throughout."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from asynclab.api import STRATEGIES
from asynclab.grammar import written

from . import probe, runner
from .sampler import Sampler
from .units import format_duration


@dataclass(frozen=True)
class Lab:
    """Where the services are, where results go, and how to behave between scenarios."""

    gateway: str
    backend: str
    results: Path
    timeout: float = 60.0
    drain: bool = True
    progress: bool | None = None


def aggregation_url(
    lab: Lab, strategy: str, target: str, n: int, delay: float, client: str | None = None, **extra: str
) -> str:
    query = {"n": n, "target": target, "delay": written(delay)}
    if client:
        query["client"] = client
    return lab.gateway.rstrip("/") + STRATEGIES[strategy] + "?" + urlencode({**query, **extra})


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
        print(
            f"  {label}: {figures['requests']} requests, {figures['rps']:.1f} req/s, p50 "
            f"{format_duration(figures['p50'])}, p99 {format_duration(figures['p99'])}, "
            f"{figures['errors']} errors; {services_line(figures)}",
            file=sys.stderr,
            flush=True,
        )
    return figures


async def observed(lab: Lab, plan: runner.Plan, label: str) -> dict:
    """Run the plan while sampling both services' telemetry; figures["services"] has it."""
    async with Sampler({"gateway": lab.gateway, "backend": lab.backend}) as sampler:
        figures = await runner.run(plan, label=label, progress=lab.progress)
    figures["services"] = sampler.summary()
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
) -> runner.Plan:
    """The plan every closed-loop cell runs: `concurrency` requests in flight on `url`."""
    return runner.Plan(
        workers=workers,
        urls=(url,),
        concurrency=concurrency,
        duration=duration,
        warmup=warmup,
        timeout=lab.timeout,
        **extra,
    )
