"""`soak`: a steady open loop for minutes, for the errors and the memory growth that only
time shows."""

from __future__ import annotations

import time

from ..lab import Lab, aggregation_url
from ..options import aggregation, arguments, duration, open_loop, option
from ..plan import Plan
from ..probe import environment, verify
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
