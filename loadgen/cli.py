"""python -m loadgen [run|article|sweep|resources|db|faults|soak|clients|report] ...: every flag has a LOADGEN_* twin.

Exit status: 0 done; 1 a --fail-if condition failed; 2 bad usage or a broken target
(loadgen refuses to measure what does not answer correctly).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

from asynclab.config import boolean

from . import database, experiments, report, robustness, runner, thresholds
from .experiments import ARTICLE_STRATEGIES, STRATEGIES, TARGETS, Lab

# The gateway's client= choices (gateway/clients/); loadgen does not import the gateway.
CLIENTS = ("auto", "article", "context", "shared", "aiohttp")
from .probe import BrokenTarget, environment
from .units import format_duration, parse_duration


def _words(text: str) -> list[str]:
    return [word for word in text.replace(",", " ").split() if word]


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(cast, high=None):
    def parse(text: str):
        value = cast(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}: {text!r}")
        return value

    parse.__name__ = cast.__name__
    return parse


def _choices(allowed):
    def parse(text: str) -> tuple[str, ...]:
        words = tuple(_words(text))
        unknown = [w for w in words if w not in allowed]
        if unknown or not words:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)}: {text!r}")
        return words

    return parse


def _levels(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(w) for w in _words(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"concurrency levels are whole numbers: {text!r}") from None
    if not levels or min(levels) < 1 or max(levels) > 10_000:
        raise argparse.ArgumentTypeError(f"levels from 1 to 10000: {text!r}")
    return levels


def _threshold(text: str) -> thresholds.Threshold:
    try:
        return thresholds.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def option(parser: argparse.ArgumentParser, *flags: str, env: str, default=None, type=str, help: str = "", **kw) -> None:
    """add_argument whose default comes from environment variable `env` when it is set."""
    raw = os.environ.get(env, "")
    action = kw.get("action")
    if raw.strip():
        try:
            if action == "store_true":
                default = boolean(raw)
            elif action == "append":
                default = [type(part.strip()) for part in raw.split(";") if part.strip()]
            else:
                default = type(raw)
        except (ValueError, argparse.ArgumentTypeError) as exc:
            parser.error(f"{env}={raw!r}: {exc}")
    shown = "" if default in (None, [], False) else f" (default {default if not isinstance(default, tuple) else ','.join(map(str, default))})"
    if action in ("store_true", "append"):
        if action == "append":
            kw["type"] = type
        # append adds to the default list: start from a copy so flags extend env values.
        parser.add_argument(*flags, default=list(default) if action == "append" else default,
                            help=f"{help}{shown} [env {env}]", **kw)
    else:
        parser.add_argument(*flags, default=default, type=type, help=f"{help}{shown} [env {env}]", **kw)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    option(common, "--gateway", env="LOADGEN_GATEWAY_URL", default="http://localhost:8000", help="gateway base URL")
    option(common, "--backend", env="LOADGEN_BACKEND_URL", default="http://localhost:8001",
           help="backend base URL (to check it is idle and record its settings)")
    option(common, "--results", env="LOADGEN_RESULTS", default=Path("results"), type=Path, help="results folder")
    option(common, "--timeout", env="LOADGEN_TIMEOUT", default=60.0, type=_duration,
           help="per-request timeout; slower responses count as timeouts, never vanish")
    option(common, "--no-drain", env="LOADGEN_NO_DRAIN", action="store_true",
           help="do not wait for idle services before each scenario")
    option(common, "--quiet", env="LOADGEN_QUIET", action="store_true", help="no live progress line even on a terminal")
    option(common, "--fail-if", env="LOADGEN_FAIL_IF", default=[], action="append", type=_threshold, dest="fail_if",
           help="exit 1 unless CONDITION holds for every measurement, e.g. 'p99<2s' or 'errors==0' "
                "(repeatable; ';'-separated in the env twin)")

    # Options belong to the commands (argparse lets a subcommand's defaults overwrite
    # options given before it): `loadgen run -c 5 URL`, `loadgen --quiet` = `loadgen article --quiet`.
    parser = argparse.ArgumentParser(prog="loadgen", description="asynclab's load generator; COMMAND --help for its options")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser("run", parents=[common], help="load one or more URLs")
    option(run, "urls", env="LOADGEN_URLS", default=None, type=str, nargs="*",
           help="target URL(s), taken in turn (space-separated in the env twin)")
    option(run, "-c", "--concurrency", env="LOADGEN_CONCURRENCY", default=10, type=_positive(int), help="closed loop: requests in flight")
    option(run, "-d", "--duration", env="LOADGEN_DURATION", default=10.0, type=_duration, help="measurement window")
    option(run, "-n", "--requests", env="LOADGEN_REQUESTS", default=None, type=_positive(int),
           help="measure this many requests instead of a window")
    option(run, "--rate", env="LOADGEN_RATE", default=None, type=_positive(float),
           help="open loop at this many requests/s (latency from the intended send time)")
    option(run, "--warmup", env="LOADGEN_WARMUP", default=2.0, type=_duration, help="warm-up time, not measured")
    option(run, "--warmup-requests", env="LOADGEN_WARMUP_REQUESTS", default=None, type=_positive(int),
           help="warm up with this many requests instead of a time")
    option(run, "--max-inflight", env="LOADGEN_MAX_INFLIGHT", default=10_000, type=_positive(int),
           help="open loop: most requests in flight at once")
    option(run, "--no-verify", env="LOADGEN_NO_VERIFY", action="store_true", help="skip the check that the target answers right")

    article = commands.add_parser("article", parents=[common], help="the article's table for the running SERVER_MODE (default)")
    option(article, "--fanout", env="LOADGEN_FANOUT", default=10, type=_positive(int), help="calls per aggregation (n)")
    option(article, "--delay", env="LOADGEN_DELAY", default=1.0, type=_duration, help="backend delay per call")
    option(article, "--repeat", env="LOADGEN_REPEAT", default=3, type=_positive(int), help="measured requests per cell")
    option(article, "--strategies", env="LOADGEN_STRATEGIES", default=ARTICLE_STRATEGIES,
           type=_choices(ARTICLE_STRATEGIES), help="the article's own")
    option(article, "--targets", env="LOADGEN_TARGETS", default=TARGETS, type=_choices(TARGETS), help="backend views")

    sweep = commands.add_parser("sweep", parents=[common], help="closed-loop concurrency sweep over the strategies")
    option(sweep, "--levels", env="LOADGEN_LEVELS", default=(1, 10, 50, 100, 200), type=_levels, help="concurrency levels")
    option(sweep, "--strategies", env="LOADGEN_STRATEGIES", default=ARTICLE_STRATEGIES, type=_choices(tuple(STRATEGIES)))
    option(sweep, "--target", env="LOADGEN_TARGET", default="sync", choices=TARGETS, help="backend view")
    option(sweep, "--fanout", env="LOADGEN_FANOUT", default=10, type=_positive(int), help="calls per aggregation (n)")
    option(sweep, "--delay", env="LOADGEN_DELAY", default=0.1, type=_duration, help="backend delay per call")
    option(sweep, "--duration", env="LOADGEN_DURATION", default=10.0, type=_duration, help="window per cell")
    option(sweep, "--warmup", env="LOADGEN_WARMUP", default=3.0, type=_duration, help="warm-up per cell")
    option(sweep, "--client", env="LOADGEN_CLIENT", default="article", choices=CLIENTS,
           help="the gateway's HTTP client (the article's, so the sweep measures the article's code)")

    resources = commands.add_parser("resources", parents=[common],
                                    help="memory per thread vs per task, and the services' threads and memory under load")
    option(resources, "--concurrency", "-c", env="LOADGEN_CONCURRENCY", default=200, type=_positive(int), help="closed-loop concurrency")
    option(resources, "--strategies", env="LOADGEN_STRATEGIES", default=("gather", "threadpool"), type=_choices(tuple(STRATEGIES)))
    option(resources, "--target", env="LOADGEN_TARGET", default="async", choices=TARGETS, help="backend view")
    option(resources, "--fanout", env="LOADGEN_FANOUT", default=5, type=_positive(int), help="calls per aggregation (n)")
    option(resources, "--delay", env="LOADGEN_DELAY", default=0.2, type=_duration, help="backend delay per call")
    option(resources, "--duration", env="LOADGEN_DURATION", default=8.0, type=_duration, help="window per scenario")
    option(resources, "--warmup", env="LOADGEN_WARMUP", default=2.0, type=_duration, help="warm-up per scenario")
    option(resources, "--threads", env="LOADGEN_THREADS", default=10_000, type=_positive(int, 50_000), help="idle threads to measure")
    option(resources, "--client", env="LOADGEN_CLIENT", default="article", choices=CLIENTS,
           help="the gateway's HTTP client")
    option(resources, "--tasks", env="LOADGEN_TASKS", default=100_000, type=_positive(int, 1_000_000),
           help="parked asyncio tasks to measure")

    db = commands.add_parser("db", parents=[common],
                             help="the database endpoints over a concurrency sweep, with PostgreSQL's connections")
    option(db, "--levels", env="LOADGEN_LEVELS", default=(1, 10, 40), type=_levels, help="concurrency levels")
    option(db, "--targets", env="LOADGEN_TARGETS", default=database.TARGETS, type=_choices(database.TARGETS),
           help="the backend's database views")
    option(db, "--fanout", env="LOADGEN_FANOUT", default=5, type=_positive(int), help="calls per aggregation (n)")
    option(db, "--delay", env="LOADGEN_DELAY", default=0.1, type=_duration, help="seconds each call spends in the database")
    option(db, "--duration", env="LOADGEN_DURATION", default=5.0, type=_duration, help="window per cell")
    option(db, "--warmup", env="LOADGEN_WARMUP", default=1.0, type=_duration, help="warm-up per cell")
    option(db, "--client", env="LOADGEN_CLIENT", default="auto", choices=CLIENTS,
           help="the gateway's HTTP client (auto: its fastest, so the backend's database is what limits)")

    faults = commands.add_parser("faults", parents=[common],
                                 help="open loop while the backend is stopped and started (use `make faults`)")
    option(faults, "--strategy", env="LOADGEN_STRATEGY", default="gather", choices=tuple(STRATEGIES))
    option(faults, "--rate", env="LOADGEN_RATE", default=10.0, type=_positive(float, 1000), help="aggregations/s")
    option(faults, "--duration", env="LOADGEN_DURATION", default=45.0, type=_duration, help="length of the run")
    option(faults, "--fanout", env="LOADGEN_FANOUT", default=5, type=_positive(int), help="calls per aggregation (n)")
    option(faults, "--delay", env="LOADGEN_DELAY", default=0.1, type=_duration, help="backend delay per call")
    option(faults, "--deadline", env="LOADGEN_DEADLINE", default=2.0, type=_duration, help="the gateway's deadline")

    soak = commands.add_parser("soak", parents=[common], help="steady open loop for minutes: errors and memory growth")
    option(soak, "--strategy", env="LOADGEN_STRATEGY", default="gather", choices=tuple(STRATEGIES))
    option(soak, "--rate", env="LOADGEN_RATE", default=20.0, type=_positive(float, 1000), help="aggregations/s")
    option(soak, "--duration", env="LOADGEN_DURATION", default=300.0, type=_duration, help="measured time (at most 1 h)")
    option(soak, "--warmup", env="LOADGEN_WARMUP", default=30.0, type=_duration, help="warm-up, before memory is compared")
    option(soak, "--fanout", env="LOADGEN_FANOUT", default=5, type=_positive(int), help="calls per aggregation (n)")
    option(soak, "--delay", env="LOADGEN_DELAY", default=0.1, type=_duration, help="backend delay per call")

    client_sweep = commands.add_parser("clients", parents=[common], help="every HTTP client choice under the same load")
    option(client_sweep, "--levels", env="LOADGEN_LEVELS", default=(10, 50), type=_levels, help="concurrency levels")
    option(client_sweep, "--strategies", env="LOADGEN_STRATEGIES", default=("gather", "threadpool"),
           type=_choices(tuple(STRATEGIES)))
    option(client_sweep, "--fanout", env="LOADGEN_FANOUT", default=10, type=_positive(int), help="calls per aggregation (n)")
    option(client_sweep, "--delay", env="LOADGEN_DELAY", default=0.1, type=_duration, help="backend delay per call")
    option(client_sweep, "--duration", env="LOADGEN_DURATION", default=8.0, type=_duration, help="window per cell")
    option(client_sweep, "--warmup", env="LOADGEN_WARMUP", default=2.0, type=_duration, help="warm-up per cell")

    commands.add_parser("report", parents=[common], help="render results/ to results/report.md with plots")
    return parser


def lab_from(args) -> Lab:
    progress = False if args.quiet else None
    return Lab(gateway=args.gateway, backend=args.backend, results=args.results, timeout=args.timeout,
               drain=not args.no_drain, progress=progress)


def check(conditions, figures_list) -> int:
    failed = [reason for figures in figures_list for reason in thresholds.failures(conditions, figures)]
    for reason in failed:
        print(f"loadgen: --fail-if {reason}", file=sys.stderr)
    return 1 if failed else 0


async def do_run(args, lab: Lab) -> tuple[dict, list[dict]]:
    urls = tuple(args.urls or [])
    if not urls:
        raise SystemExit("loadgen run: give at least one URL (or LOADGEN_URLS)")
    warmup = args.warmup_requests if args.warmup_requests else args.warmup
    plan = runner.Plan(urls=urls, concurrency=args.concurrency, rate=args.rate, duration=args.duration,
                       requests=args.requests, warmup=warmup, warmup_requests=bool(args.warmup_requests),
                       timeout=args.timeout, max_inflight=args.max_inflight)
    env = await environment(lab.gateway, lab.backend)
    if args.no_verify:
        figures = await experiments.observed(lab, plan, "run")
    else:
        figures = await experiments.measure(lab, plan, "run")
    scenario = {"urls": list(urls), "mode": plan.mode, "concurrency": None if plan.rate else plan.concurrency,
                "rate": plan.rate, "duration": plan.duration if plan.requests is None else None,
                "requests": plan.requests, "warmup": plan.warmup, "warmup_requests": plan.warmup_requests,
                "timeout": plan.timeout}
    return {"experiment": "run", "scenario": scenario, "environment": env, "figures": figures}, [figures]


def run_table(result: dict) -> str:
    f, s = result["figures"], result["scenario"]
    load = f"open loop {s['rate']:g}/s" if s["rate"] else f"closed loop c={s['concurrency']}"
    lines = [f"{', '.join(s['urls'])}: {load}, {f['requests']} requests in {f['window']:.1f} s, {f['rps']:.1f} req/s",
             "latency " + "  ".join(f"{k} {format_duration(f[k])}" for k in ("p50", "p90", "p99", "p999", "max"))]
    if f.get("latency_uncorrected"):
        u = f["latency_uncorrected"]
        lines.append("  uncorrected (from actual send) " + "  ".join(f"{k} {format_duration(u[k])}" for k in ("p50", "p99", "max")))
    lines.append(f"statuses {f['statuses']}  errors {f['error_kinds'] or 0}  partial aggregations {f['partial']}")
    lines.append(f"loadgen CPU {f['loadgen']['cpu_share']:.0%} of a core"
                 + (f", {f['loadgen']['cpu_ms_per_1000']:.0f} ms per 1000 requests" if f['loadgen']['cpu_ms_per_1000'] else ""))
    if f.get("breakdown"):
        b = f["breakdown"]
        lines.append("where the time went (means): " + ", ".join(
            f"{part} {format_duration(b['parts'][part])} ({b['shares'][part]:.0%})" for part in b["parts"]))
    lines.append("services: " + experiments.services_line(f))
    if f.get("slowest"):
        lines.append("slowest request ids: " + ", ".join(f"{s['request_id']} ({format_duration(s['latency'])})" for s in f["slowest"]))
    notes = experiments.flags(f)
    if notes:
        lines.append("WARNING: " + "; ".join(notes))
    return "\n".join(lines)


async def dispatch(args) -> int:
    lab = lab_from(args)
    command = args.command
    if command == "report":
        path = report.render(lab.results)
        if path is None:
            return 2
        print(f"report: {path}")
        return 0
    if command == "run":
        result, measured = await do_run(args, lab)
        text = run_table(result)
    elif command == "article":
        result = await experiments.article(lab, n=args.fanout, delay=args.delay, repeat=args.repeat,
                                           strategies=args.strategies, targets=args.targets)
        measured = [row["figures"] for row in result["rows"]]
        text = experiments.article_table(result)
    elif command == "db":
        result = await database.db(lab, levels=args.levels, targets=args.targets, n=args.fanout, delay=args.delay,
                                   duration=args.duration, warmup=args.warmup, client=args.client)
        measured = [cell["figures"] for cell in result["cells"]]
        text = database.db_table(result)
    elif command == "faults":
        result = await robustness.faults(lab, strategy=args.strategy, rate=args.rate, duration=args.duration,
                                         n=args.fanout, delay=args.delay, deadline=args.deadline)
        measured = [result["figures"]]
        text = robustness.faults_table(result)
    elif command == "soak":
        if args.duration > 3600:
            raise SystemExit("loadgen soak: --duration is at most 1 h")
        result = await robustness.soak(lab, strategy=args.strategy, rate=args.rate, duration=args.duration,
                                       warmup=args.warmup, n=args.fanout, delay=args.delay)
        measured = [result["figures"]]
        text = robustness.soak_table(result)
    elif command == "clients":
        result = await robustness.clients(lab, levels=args.levels, strategies=args.strategies, n=args.fanout,
                                          delay=args.delay, duration=args.duration, warmup=args.warmup)
        measured = [cell["figures"] for cell in result["cells"]]
        text = robustness.clients_table(result)
    elif command == "resources":
        result = await experiments.resources(
            lab, concurrency=args.concurrency, strategies=args.strategies, target=args.target, n=args.fanout,
            delay=args.delay, duration=args.duration, warmup=args.warmup,
            memory_counts={"threads": args.threads, "tasks_sleep": args.tasks, "tasks_event": args.tasks},
            client=args.client)
        measured = [cell["figures"] for cell in result["cells"]]
        text = experiments.resources_table(result)
    else:
        result = await experiments.sweep(lab, levels=args.levels, strategies=args.strategies, target=args.target,
                                         n=args.fanout, delay=args.delay, duration=args.duration, warmup=args.warmup,
                                         client=args.client)
        measured = [cell["figures"] for cell in result["cells"]]
        text = experiments.sweep_table(result)
    print(text)
    path = experiments.save(lab, result)
    if path is not None:
        print(f"results: {path}")
    status = check(args.fail_if, measured)
    # Not saved: the figures are on stdout, but a script must not take this run for done.
    return 2 if path is None else status


def _owner(path: Path) -> str:
    # A missing folder is described by what exists on its way: a parent, or a file in the way.
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    try:
        info = path.stat()
    except OSError:
        return f"{path} (owner unknown)"
    return f"{path} is owned by uid {info.st_uid} gid {info.st_gid}"


def preflight(folder: Path) -> str | None:
    """None if loadgen can write results to `folder` (made if missing), else why not.

    Every command ends by writing there: finding out after a minute of measuring is too late.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".loadgen-write-check-", dir=folder)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        return (f"loadgen: cannot write the results folder {folder} ({_owner(folder)}; loadgen runs as "
                f"uid {os.getuid()} gid {os.getgid()}): {exc}")
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        # `docker compose run loadgen` with no command: the article's table.
        argv.insert(0, "article")
    args = build_parser().parse_args(argv)
    problem = preflight(args.results)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    try:
        return asyncio.run(dispatch(args))
    except BrokenTarget as exc:
        print(f"loadgen: refusing to measure: {exc}", file=sys.stderr)
        return 2
    except PermissionError as exc:
        print(f"loadgen: cannot write results: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. piped into `head`
        return 0


if __name__ == "__main__":
    sys.exit(main())

