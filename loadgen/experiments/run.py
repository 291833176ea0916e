"""`run`: load one or more URLs, closed loop (-c) or open loop (--rate), and report every figure."""

from __future__ import annotations

from .. import display, markdown
from ..lab import Lab, flags, measure, observed, services_line
from ..options import duration, option, positive, workers
from ..plan import Plan
from ..probe import environment
from ..units import format_duration

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


def table(result: dict) -> str:
    f, s = result["figures"], result["scenario"]
    load = f"open loop {s['rate']:g}/s" if s["rate"] else f"closed loop c={s['concurrency']}"
    lines = [
        f"{', '.join(s['urls'])}: {load}, {f['requests']} requests in {f['window']:.1f} s, {f['rps']:.1f} req/s",
        f"latency over {display.requests(f)} requests: "
        + "  ".join(f"{k} {display.latency(f, k)}" for k in ("p50", "p90", "p99", "p999", "max")),
    ]
    if f.get("latency_uncorrected"):
        u = f["latency_uncorrected"]
        lines.append(
            "  uncorrected (from actual send) "
            + "  ".join(f"{k} {format_duration(u[k])}" for k in ("p50", "p99", "max"))
        )
    lines.append(f"statuses {f['statuses']}  errors {display.errors(f)}  partial aggregations {f['partial']}")
    lines.append(_loadgen_line(f["loadgen"]))
    if f.get("machine"):
        lines.append(_machine_line(f["machine"]))
    if f.get("breakdown"):
        b = f["breakdown"]
        lines.append(
            "where the time went (means): "
            + ", ".join(f"{part} {format_duration(b['parts'][part])} ({b['shares'][part]:.0%})" for part in b["parts"])
        )
    lines.append("services: " + services_line(f))
    if f.get("slowest"):
        lines.append(
            "slowest request ids: "
            + ", ".join(f"{s['request_id']} ({format_duration(s['latency'])})" for s in f["slowest"])
        )
    notes = flags(f)
    if notes:
        lines.append("WARNING: " + "; ".join(notes))
    return "\n".join(lines)


def _loadgen_line(loadgen: dict) -> str:
    count = loadgen.get("workers", 1)
    if count == 1:
        line = f"loadgen: 1 process, CPU {loadgen['cpu_share']:.0%} of a core"
    else:
        line = (
            f"loadgen: {count} processes, CPU {loadgen['cpu_share']:.2f} cores "
            f"(busiest {loadgen['busiest_share']:.0%} of a core)"
        )
    if loadgen["cpu_ms_per_1000"]:
        line += f", {loadgen['cpu_ms_per_1000']:.0f} ms per 1000 requests"
    return line


def _machine_line(seen: dict) -> str:
    line = f"machine: {seen['cores']} cores"
    if seen.get("steal_share") is not None:
        line += f", steal {seen['steal_share']:.1%}, busy {seen['busy_share']:.0%}".replace("%", " %")
    return line


def section(latest: dict, folder) -> list[str]:
    runs = [result for (name, _), result in latest.items() if name == "run"]
    if not runs:
        return []
    rows = []
    for result in runs:
        f, s = result["figures"], result["scenario"]
        load = f"rate {s['rate']:g}/s" if s.get("rate") else f"c={s['concurrency']}"
        rows.append(
            [
                result["_file"],
                result["environment"]["server_mode"],
                load,
                f["requests"],
                f"{f['rps']:.1f}",
                display.latency(f, "p50"),
                display.latency(f, "p99"),
                display.errors(f),
                "; ".join(flags(f)),
            ]
        )
    header = ("file", "mode", "load", "requests", "req/s", "p50", "p99", "errors", "notes")
    return ["## Runs", "", *markdown.table(header, rows), ""]
