"""`soak`: a steady open loop for minutes, for the errors and the memory growth that only
time shows."""

from __future__ import annotations

import time

from .. import display, markdown
from ..lab import Lab, aggregation_url
from ..options import aggregation, arguments, duration, open_loop, option
from ..plan import Plan
from ..probe import environment, verify
from ..results import modes
from ..sampler import Sampler

HELP = "steady open loop for minutes: errors and memory growth"
LONGEST = 3600.0


def options(parser) -> None:
    open_loop(parser, rate=20.0)
    option(
        parser, "--duration", env="LOADGEN_DURATION", default=300.0, type=duration, help="measured time (at most 1 h)"
    )
    option(
        parser, "--warmup", env="LOADGEN_WARMUP", default=30.0, type=duration, help="warm-up, before memory is compared"
    )
    aggregation(parser, fanout=5, delay=0.1)


async def command(args, lab: Lab) -> dict:
    if args.duration > LONGEST:
        raise SystemExit("loadgen soak: --duration is at most 1 h")
    return await run(lab, **arguments(args, run))


def growth(samples: list[dict], after: float) -> dict | None:
    """RSS of a service after warm-up (first sample at or past `after`) vs at the end."""
    settled = [s for s in samples if s["at"] >= after]
    if len(settled) < 2:
        return None
    first, last = settled[0]["rss_bytes"]["now"], settled[-1]["rss_bytes"]["now"]
    return {
        "rss_after_warmup": first,
        "rss_end": last,
        "growth": (last - first) / first if first else None,
        "threads_after_warmup": settled[0]["threads"]["now"],
        "threads_end": settled[-1]["threads"]["now"],
    }


async def run(
    lab: Lab,
    strategy: str = "gather",
    rate: float = 20.0,
    duration: float = 300.0,
    warmup: float = 30.0,
    n: int = 5,
    delay: float = 0.1,
    workers: int = 1,
) -> dict:
    env = await environment(lab)
    url = aggregation_url(lab, strategy, "async", n, delay)
    await verify(url, lab.timeout)
    plan = Plan(workers=workers, urls=(url,), rate=rate, duration=duration, warmup=warmup, timeout=lab.timeout)
    begin = time.perf_counter()
    # Sampled every 2 s, not lab.observed's 0.5 s: minutes of samples, and growth is slow.
    async with Sampler({"gateway": lab.gateway, "backend": lab.backend}, interval=2.0) as sampler:
        figures = await lab.engine.run(plan, label=f"soak {strategy} at {rate:g}/s", progress=lab.progress)
    figures["services"] = sampler.summary()
    memory = {name: growth(samples, begin + warmup) for name, samples in sampler.samples.items()}
    return {
        "experiment": "soak",
        "environment": env,
        "scenario": {
            "strategy": strategy,
            "rate": rate,
            "duration": duration,
            "warmup": warmup,
            "n": n,
            "delay": delay,
            "url": url,
        },
        "figures": figures,
        "memory": memory,
    }


def table(result: dict) -> str:
    f, s = result["figures"], result["scenario"]
    lines = [
        f"soak, SERVER_MODE={result['environment']['server_mode']}: {s['strategy']} at {s['rate']:g}/s for "
        f"{s['duration']:g} s after {s['warmup']:g} s warm-up: {f['requests']} requests, {display.errors(f)} errors, "
        f"{f['partial']} partial, p50 {display.latency(f, 'p50')}, p99 {display.latency(f, 'p99')}"
    ]
    for name, seen in result["memory"].items():
        if seen:
            lines.append(
                f"  {name}: RSS {seen['rss_after_warmup'] / 2**20:.1f} -> {seen['rss_end'] / 2**20:.1f} MiB "
                f"({seen['growth']:+.1%}), threads {seen['threads_after_warmup']} -> {seen['threads_end']}"
            )
    return "\n".join(lines)


def section(latest: dict, folder) -> list[str]:
    found = modes(latest, "soak")
    if not found:
        return []
    rows = []
    for mode in found:
        result = latest[("soak", mode)]
        f, s = result["figures"], result["scenario"]

        def grew(name, result=result):
            seen = result["memory"].get(name)
            return "-" if not seen or seen["growth"] is None else f"{seen['growth']:+.1%}"

        rows.append(
            [
                mode,
                f"{s['strategy']} at {s['rate']:g}/s for {s['duration']:g} s",
                f["requests"],
                display.errors(f),
                display.latency(f, "p50"),
                display.latency(f, "p99"),
                grew("gateway"),
                grew("backend"),
            ]
        )
    header = ("mode", "load", "requests", "errors", "p50", "p99", "gateway RSS growth", "backend RSS growth")
    return [
        "## Soak",
        "",
        *markdown.table(header, rows),
        "",
        "RSS growth compares each service's memory after the warm-up with the end of the run.",
        "",
    ]
