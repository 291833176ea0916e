"""`capacity`: the highest arrival rate a configuration carries within its objectives
(`--slo p99=500ms --slo errors=0.1%`), found by an open-loop search (loadgen/search.py) whose
every step is one of the lab's open-loop measurements: drained, verified, warmed up, long
enough for its percentile, on this process, its --workers or the --replicas, histograms
added exactly. The result keeps every step with its figures and its histogram.

Over 250 lines: the experiment whole, as every experiment module holds its own: a dozen
bounded flags and their checks before any load, the step the search is given, and the
result with the cost model's check."""

from __future__ import annotations

import argparse
import sys
import time

from asynclab.api import ARTICLE_TARGETS, CLIENT_CHOICES, STRATEGIES

from .. import model, search, slo
from ..lab import Lab, aggregation_url, measure, open_loop
from ..options import aggregation, arguments, duration, option, positive, workers
from ..probe import environment

HELP = "the highest open-loop rate that meets --slo objectives (p99=500ms, errors=0.1%), with its spread"

# The objective when none is given: the issue's, and the one `make capacity` holds every
# configuration to (with the assumed error objective, slo.DEFAULT_ERRORS).
DEFAULT_SLO = "p99=500ms"
# A step measures at least 1 / (1 - q) samples for its percentile, and this much more, so a
# few requests that fail or arrive late do not leave it one short of being judged.
MARGIN = 1.2
# No step's window is longer than this: a search that would need more (p99.9 at 1/s) is
# refused up front rather than left to run for hours.
LONGEST_STEP = 600.0
LONGEST_SEARCH = 4 * 3600.0


def objective(text: str) -> slo.Objective:
    try:
        return slo.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def fraction(text: str) -> float:
    """0.1 or 10%: a relative resolution, from 1 % to 50 %."""
    try:
        value = float(text.rstrip("%")) / (100 if text.strip().endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a fraction or a percentage, e.g. 0.05 or 5%: {text!r}") from None
    if not 0.01 <= value <= 0.5:
        raise argparse.ArgumentTypeError(f"from 1 % to 50 %: {text!r}")
    return value


def factor(text: str) -> float:
    value = float(text)
    if not 1.2 <= value <= 4.0:
        raise argparse.ArgumentTypeError(f"from 1.2 to 4: {text!r}")
    return value


def options(parser) -> None:
    option(
        parser,
        "url",
        env="LOADGEN_CAPACITY_URL",
        default=None,
        nargs="?",
        help="the URL to search (default: the gateway's aggregation of --strategy with --client)",
    )
    option(
        parser,
        "--slo",
        env="LOADGEN_SLO",
        default=[],
        action="append",
        type=objective,
        dest="objectives",
        help=f"an objective every step must meet: p50/p90/p99/p999=DURATION or errors=PERCENT (repeatable; "
        f"';'-separated in the env twin; default {DEFAULT_SLO}; without an errors objective, errors="
        f"{slo.percent(slo.DEFAULT_ERRORS).replace(' ', '')} is assumed)",
    )
    option(
        parser,
        "--resolution",
        env="LOADGEN_RESOLUTION",
        default=0.1,
        type=fraction,
        help="stop bisecting when the rates that met and failed are this close (relative)",
    )
    option(
        parser,
        "--confirm",
        env="LOADGEN_CONFIRM",
        default=3,
        type=positive(int, 9),
        help="runs of the found rate: the capacity is their median, with their spread",
    )
    option(
        parser,
        "--start-rate",
        env="LOADGEN_START_RATE",
        default=10.0,
        type=positive(float, 10_000),
        help="aggregations/s of the first step",
    )
    option(
        parser,
        "--max-rate",
        env="LOADGEN_MAX_RATE",
        default=2000.0,
        type=positive(float, 10_000),
        help="the most the search offers (aggregations/s)",
    )
    option(parser, "--factor", env="LOADGEN_FACTOR", default=2.0, type=factor, help="the ramp's step (x)")
    option(
        parser,
        "--max-steps",
        env="LOADGEN_MAX_STEPS",
        default=30,
        type=positive(int, 100),
        help="steps of the whole search, confirmations included",
    )
    option(
        parser,
        "--budget",
        env="LOADGEN_BUDGET",
        default=900.0,
        type=duration,
        help="seconds of ramp and bisection before the search confirms what it has (at most 4 h)",
    )
    option(
        parser,
        "--duration",
        env="LOADGEN_DURATION",
        default=5.0,
        type=duration,
        help="shortest window per step (longer where its percentile needs the samples)",
    )
    option(parser, "--warmup", env="LOADGEN_WARMUP", default=2.0, type=duration, help="warm-up per step")
    option(parser, "--strategy", env="LOADGEN_STRATEGY", default="gather", choices=tuple(STRATEGIES))
    option(
        parser,
        "--client",
        env="LOADGEN_CLIENT",
        default="auto",
        choices=CLIENT_CHOICES,
        help="the gateway's HTTP client (article: the article's code; auto: the lab's best)",
    )
    option(parser, "--target", env="LOADGEN_TARGET", default="async", choices=ARTICLE_TARGETS, help="backend view")
    aggregation(parser, fanout=10, delay=0.1)
    workers(parser)


def refuse(message: str) -> None:
    print(f"loadgen capacity: {message}", file=sys.stderr)
    raise SystemExit(2)


def window(rate: float, shortest: float, samples: int) -> float:
    """A step's window: at least `shortest`, and long enough for `samples` at `rate`."""
    return max(shortest, MARGIN * samples / rate)


def prepare(given, start_rate, max_rate, factor, resolution, confirm, max_steps, budget, duration):
    """The objectives and the search's bounds; ValueError saying what is wrong with them."""
    objectives = slo.objectives(list(given) or [slo.parse(DEFAULT_SLO)])
    bounds = search.Bounds(
        start=start_rate,
        max_rate=max_rate,
        factor=factor,
        resolution=resolution,
        confirm=confirm,
        max_steps=max_steps,
        budget=budget,
    )
    if budget > LONGEST_SEARCH:
        raise ValueError("--budget is at most 4 h")
    first = window(start_rate, duration, slo.samples(objectives))
    if first > LONGEST_STEP:
        raise ValueError(
            f"a step at {start_rate:g}/s needs {first:.0f} s for {slo.samples(objectives)} samples "
            f"(at most {LONGEST_STEP:.0f} s): raise --start-rate"
        )
    return objectives, bounds


async def command(args, lab: Lab) -> dict:
    given = arguments(args, run)
    try:
        prepare(*(given[name] for name in SEARCH), given["duration"])
    except ValueError as exc:
        refuse(str(exc))
    return await run(lab, **given)


# run()'s parameters that make the search, in prepare()'s order.
SEARCH = ("objectives", "start_rate", "max_rate", "factor", "resolution", "confirm", "max_steps", "budget")


async def run(
    lab: Lab,
    url: str | None = None,
    objectives: tuple = (),
    start_rate: float = 10.0,
    max_rate: float = 2000.0,
    factor: float = 2.0,
    resolution: float = 0.1,
    confirm: int = 3,
    max_steps: int = 30,
    budget: float = 900.0,
    strategy: str = "gather",
    client: str = "auto",
    target: str = "async",
    n: int = 10,
    delay: float = 0.1,
    duration: float = 5.0,
    warmup: float = 2.0,
    workers: int = 1,
) -> dict:
    held, bounds = prepare(objectives, start_rate, max_rate, factor, resolution, confirm, max_steps, budget, duration)
    env = await environment(lab)
    aggregated = url is None
    if aggregated:
        url = aggregation_url(lab, strategy, target, n, delay, client=client)
    where = f"{strategy}/{client}" if aggregated else url
    samples = slo.samples(held)

    async def step(rate: float, phase: str) -> dict:
        begin = time.perf_counter()
        plan = open_loop(lab, url, rate, window(rate, duration, samples), warmup, workers)
        figures = await measure(lab, plan, f"capacity {where} {rate:g}/s {phase}", allow_errors=True)
        # The whole step, drain and overrun included: what the search's time budget counts.
        figures["elapsed"] = time.perf_counter() - begin
        if lab.progress is not False:
            judged = slo.verdicts(held, figures)
            shown = "; ".join(slo.describe(v) for v in judged)
            print(f"    {'met' if slo.met(judged) else 'FAILED'}: {shown}", file=sys.stderr, flush=True)
        return figures

    found = await search.search(step, held, bounds)
    result = {
        "experiment": "capacity",
        "environment": env,
        "scenario": {
            "url": url,
            "strategy": strategy if aggregated else None,
            "client": client if aggregated else None,
            "target": target if aggregated else None,
            "n": n if aggregated else None,
            "delay": delay if aggregated else None,
            "slo": [o.text for o in held],
            "objectives": [{"name": o.name, "limit": o.limit} for o in held],
            "samples": samples,
            "duration": duration,
            "warmup": warmup,
            "workers": workers,
            "timeout": lab.timeout,
        },
        "capacity": found["capacity"],
        "steps": found["steps"],
    }
    # What the cost model predicted from the lowest step, beside what was measured.
    result["model"] = model.check(result)
    if aggregated:
        # One result per configuration in a folder: the report and compare keep each.
        result["variant"] = variant(strategy, client, env)
    return result


def quotas(env: dict) -> tuple[float | None, float | None]:
    """The gateway's and the backend's CPU quotas in cores, from their /healthz (None: none)."""
    return tuple(((env.get(service) or {}).get("cpu") or {}).get("quota") for service in ("gateway", "backend"))


def variant(strategy: str, client: str, env: dict) -> str:
    """gather-auto, or gather-auto-cpu0.5-0.5 under CPU quotas: each configuration and budget
    a result of its own, so `make capacity`'s cells all reach the report."""
    found = quotas(env)
    if not any(found):
        return f"{strategy}-{client}"
    return f"{strategy}-{client}-cpu" + "-".join("all" if q is None else f"{q:g}" for q in found)


def exit_status(result: dict) -> int:
    """2 when no rate met the objectives: the first step already failed (its figures are
    in the result, and the reason on stderr), so there is no capacity to act on."""
    capacity = result["capacity"]
    if capacity["status"] != search.UNREACHABLE:
        return 0
    failed = capacity.get("failed_first") or {}
    print(
        f"loadgen capacity: no rate met the objectives: the first step, {failed.get('rate', 0):g}/s, "
        f"already failed ({failed.get('text', 'unjudged')}); lower --start-rate or loosen --slo",
        file=sys.stderr,
    )
    return 2
