"""`run`: load one or more URLs, closed loop (-c) or open loop (--rate), and report every figure."""

from __future__ import annotations

from ..lab import Lab, measure, observed
from ..options import duration, option, positive, workers
from ..plan import Plan
from ..probe import environment

HELP = "load one or more URLs"


def options(parser) -> None:
    option(
        parser,
        "urls",
        env="LOADGEN_URLS",
        default=None,
        type=str,
        nargs="*",
        help="target URL(s), taken in turn (space-separated in the env twin)",
    )
    option(
        parser,
        "-c",
        "--concurrency",
        env="LOADGEN_CONCURRENCY",
        default=10,
        type=positive(int),
        help="closed loop: requests in flight",
    )
    option(parser, "-d", "--duration", env="LOADGEN_DURATION", default=10.0, type=duration, help="measurement window")
    option(
        parser,
        "-n",
        "--requests",
        env="LOADGEN_REQUESTS",
        default=None,
        type=positive(int),
        help="measure this many requests instead of a window",
    )
    option(
        parser,
        "--rate",
        env="LOADGEN_RATE",
        default=None,
        type=positive(float),
        help="open loop at this many requests/s (latency from the intended send time)",
    )
    option(parser, "--warmup", env="LOADGEN_WARMUP", default=2.0, type=duration, help="warm-up time, not measured")
    option(
        parser,
        "--warmup-requests",
        env="LOADGEN_WARMUP_REQUESTS",
        default=None,
        type=positive(int),
        help="warm up with this many requests instead of a time",
    )
    option(
        parser,
        "--max-inflight",
        env="LOADGEN_MAX_INFLIGHT",
        default=10_000,
        type=positive(int),
        help="open loop: most requests in flight at once",
    )
    option(
        parser,
        "--no-verify",
        env="LOADGEN_NO_VERIFY",
        action="store_true",
        help="skip the check that the target answers right",
    )
    workers(parser)


async def command(args, lab: Lab) -> dict:
    urls = tuple(args.urls or [])
    if not urls:
        raise SystemExit("loadgen run: give at least one URL (or LOADGEN_URLS)")
    warmup = args.warmup_requests if args.warmup_requests else args.warmup
    plan = Plan(
        urls=urls,
        concurrency=args.concurrency,
        rate=args.rate,
        duration=args.duration,
        requests=args.requests,
        warmup=warmup,
        warmup_requests=bool(args.warmup_requests),
        timeout=args.timeout,
        max_inflight=args.max_inflight,
        workers=args.workers,
    )
    return await run(lab, plan, verify=not args.no_verify)


async def run(lab: Lab, plan: Plan, verify: bool = True) -> dict:
    env = await environment(lab)
    figures = await (measure if verify else observed)(lab, plan, "run")
    scenario = {
        "urls": list(plan.urls),
        "mode": plan.mode,
        "concurrency": None if plan.rate else plan.concurrency,
        "rate": plan.rate,
        "duration": plan.duration if plan.requests is None else None,
        "requests": plan.requests,
        "warmup": plan.warmup,
        "warmup_requests": plan.warmup_requests,
        "timeout": plan.timeout,
        "workers": plan.workers,
    }
    return {"experiment": "run", "scenario": scenario, "environment": env, "figures": figures}
