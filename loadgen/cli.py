"""python -m loadgen [run|article|sweep|resources|db|faults|soak|clients|...|report|compare|replica] ...:
every flag has a LOADGEN_* twin.

Exit status: 0 done; 1 a --fail-if condition failed; 2 bad usage or a broken target
(loadgen refuses to measure what does not answer correctly).

Over 250 lines: the one place that parses, dispatches and turns every way a run can end
(a stop, a failed write, a broken target) into its exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from functools import partial
from pathlib import Path

from asynclab.knobs import hosts

from . import compare, engine, handshake, replica, replicas, report, results, stopped, targets, thresholds
from .experiments import EXPERIMENTS
from .lab import Lab
from .options import common, duration, option
from .probe import BrokenTarget
from .sections import ORDER as SECTIONS


async def run_experiment(experiment, args, lab: Lab) -> int:
    result = await experiment.command(args, lab)
    print(SECTIONS[args.command].table(result))
    path = results.save(lab, result)
    if path is not None:
        print(f"results: {path}")
    status = check(args.fail_if, results.measured(result))
    # An experiment may have its own reason to fail a run it saved (capacity: none found).
    status = max(status, getattr(experiment, "exit_status", lambda _: 0)(result))
    # Not saved: the figures are on stdout, but a script must not take this run for done.
    return 2 if path is None else status


async def render_report(args, lab: Lab) -> int:
    path = report.render(lab.results)
    if path is None:
        return 2
    print(f"report: {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    shared = common()
    secret_file(shared)
    # Options belong to the commands (argparse lets a subcommand's defaults overwrite
    # options given before it): `loadgen run -c 5 URL`, `loadgen --quiet` = `loadgen article --quiet`.
    parser = argparse.ArgumentParser(
        prog="loadgen", description="asynclab's load generator; COMMAND --help for its options"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, experiment in EXPERIMENTS.items():
        command = commands.add_parser(name, parents=[shared], help=experiment.HELP)
        experiment.options(command)
        command.set_defaults(handler=partial(run_experiment, experiment))
    commands.add_parser(
        "report", parents=[shared], help="render results/ to results/report.md with plots, and report.html"
    ).set_defaults(handler=render_report)
    # It reads two results and measures nothing: none of the shared options apply.
    comparing = commands.add_parser("compare", help=compare.HELP)
    compare.options(comparing)
    comparing.set_defaults(handler=None)
    # A replica measures what a conductor sends it (docs/swarm.md): nothing else applies.
    serving = commands.add_parser("replica", help="serve as a loadgen replica for a conductor run with --replicas")
    option(
        serving,
        "--listen",
        env="LOADGEN_REPLICA_LISTEN",
        default=f"0.0.0.0:{replicas.PORT}",
        type=listen_address,
        help="HOST:PORT to take conductors' plans on",
    )
    secret_file(serving)
    option(
        serving,
        "--targets",
        env=targets.ENV,
        default=targets.DEFAULT,
        type=host_list,
        help="the only hosts a plan may load, comma-separated (the stack's own services)",
    )
    option(
        serving,
        "--idle-limit",
        env="LOADGEN_REPLICA_IDLE_LIMIT",
        default=replicas.IDLE_LIMIT,
        type=idle_limit,
        help="close a proved conductor silent this long between plans (1s to 1h; a live one pings)",
    )
    serving.set_defaults(handler=None)
    return parser


def secret_file(parser: argparse.ArgumentParser) -> None:
    option(
        parser,
        "--secret-file",
        env="LOADGEN_SECRET_FILE",
        default=handshake.default_secret_file(),
        help="file holding the secret loadgen replicas and their conductor share (docs/swarm.md); "
        f"default: {handshake.MOUNTED} where compose or Swarm mounts it, else {handshake.WRITTEN}",
    )


def host_list(text: str) -> frozenset[str]:
    try:
        return targets.allowed(hosts(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}: {text!r}") from None


def idle_limit(text: str) -> float:
    value = duration(text)
    if not 1.0 <= value <= 3600.0:
        raise argparse.ArgumentTypeError(f"from 1s to 1h: {text!r}")
    return value


def listen_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"HOST:PORT, e.g. 0.0.0.0:{replicas.PORT}: {text!r}")
    return host, int(port)


def serve_replica(args) -> int:
    """A replica starts only with a secret and a non-empty allow-list (docs/swarm.md)."""
    try:
        secret = handshake.read_secret(args.secret_file)
        if targets.blank(os.environ):
            raise ValueError(f"{targets.ENV} is set but empty: name the hosts a replica may load")
    except ValueError as exc:
        print(f"loadgen replica: refusing to start: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(replica.serve(*args.listen, secret, args.targets, args.idle_limit))
    except KeyboardInterrupt:
        return 130
    return 0


def keep_partial(args, result: dict) -> int:
    """A run stopped by a signal: what it measured so far saved as a partial result (or on
    stdout when it cannot be), and the signal's exit status, so no script takes it for done."""
    info = result["partial"]
    figures = result.get("figures")
    said = f"{info['finished']} measurements finished"
    if info["stopped_in"]:
        said += f", stopped in {info['stopped_in']!r}" + (
            f" after {figures['requests']} requests ({figures['errors']} errors, {figures['unanswered']} unanswered)"
            if info["under_way_measured"]
            else " before it measured anything here"
        )
    print(f"loadgen: stopped by {info['reason']} after {info['after']:g} s: {said}", file=sys.stderr, flush=True)
    path = results.save(lab_from(args), result)
    if path is not None:
        print(f"results (partial): {path}", flush=True)
    return stopped.exit_status(info["reason"])


def lab_from(args, runs: engine.Engine = engine.LOCAL) -> Lab:
    progress = False if args.quiet else None
    return Lab(
        gateway=args.gateway,
        backend=args.backend,
        results=args.results,
        timeout=args.timeout,
        drain=not args.no_drain,
        progress=progress,
        engine=runs,
    )


def check(conditions, figures_list) -> int:
    failed = [reason for figures in figures_list for reason in thresholds.failures(conditions, figures)]
    for reason in failed:
        print(f"loadgen: --fail-if {reason}", file=sys.stderr)
    return 1 if failed else 0


async def dispatch(args) -> int:
    # The report measures nothing: it needs no replicas even when LOADGEN_REPLICAS is set.
    if not args.replicas or args.command == "report":
        return await args.handler(args, lab_from(args))
    # The engine is chosen here, once: every measurement of the command runs on the replicas.
    secret = handshake.read_secret(args.secret_file)
    async with replicas.pool(args.replicas_at, args.replicas, secret) as pool:
        print(
            f"loadgen: {len(pool.connections)} replicas: "
            + ", ".join(f"{r['host']} on {r['node']}" for r in pool.describe()),
            file=sys.stderr,
            flush=True,
        )
        return await args.handler(args, lab_from(args, engine.Replicas(pool)))


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
        return (
            f"loadgen: cannot write the results folder {folder} ({_owner(folder)}; loadgen runs as "
            f"uid {os.getuid()} gid {os.getgid()}): {exc}"
        )
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        # `docker compose run loadgen` with no command: the article's table.
        argv.insert(0, "article")
    args = build_parser().parse_args(argv)
    if args.command == "compare":
        try:
            return compare.command(args)
        except BrokenPipeError:
            return 0
    if args.command == "replica":
        return serve_replica(args)
    problem = preflight(args.results)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    try:
        status, cut = stopped.run(dispatch(args), args.command)
        return status if cut is None else keep_partial(args, cut)
    except BrokenTarget as exc:
        print(f"loadgen: refusing to measure: {exc}", file=sys.stderr)
        return 2
    except (replicas.ReplicaError, handshake.SecretError) as exc:
        print(f"loadgen: replicas: {exc}", file=sys.stderr)
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
