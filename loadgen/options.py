"""Command-line options: `option()` (argparse with a LOADGEN_* environment twin), the value
types, and the option groups several commands share.

Over 250 lines: the option groups several commands share, each a few lines, in one place so
that they stay alike."""

from __future__ import annotations

import argparse
import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from asynclab.api import ARTICLE_TARGETS, CLIENT_CHOICES, STRATEGIES
from asynclab.config import boolean

from . import thresholds
from .units import parse_duration


def _words(text: str) -> list[str]:
    return [word for word in text.replace(",", " ").split() if word]


def duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def at_most(cast, high):
    """0 to `high`: a count where 0 means none."""

    def parse(text: str):
        value = cast(text)
        if not 0 <= value <= high:
            raise argparse.ArgumentTypeError(f"must be 0 to {high}: {text!r}")
        return value

    parse.__name__ = cast.__name__
    return parse


def positive(cast, high=None):
    def parse(text: str):
        value = cast(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}: {text!r}")
        return value

    # argparse names the type in its error ("invalid int value"): keep the cast's name.
    parse.__name__ = cast.__name__
    return parse


def choices(allowed):
    def parse(text: str) -> tuple[str, ...]:
        words = tuple(_words(text))
        unknown = [w for w in words if w not in allowed]
        if unknown or not words:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)}: {text!r}")
        return words

    return parse


def levels_type(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(w) for w in _words(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"concurrency levels are whole numbers: {text!r}") from None
    if not levels or min(levels) < 1 or max(levels) > 10_000:
        raise argparse.ArgumentTypeError(f"levels from 1 to 10000: {text!r}")
    return levels


def rates_type(text: str) -> tuple[float, ...]:
    try:
        found = tuple(float(w) for w in _words(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"rates are numbers of requests a second: {text!r}") from None
    if any(not 0 < rate <= 10_000 for rate in found):
        raise argparse.ArgumentTypeError(f"rates from more than 0 to 10000 a second: {text!r}")
    return found


def threshold(text: str) -> thresholds.Threshold:
    try:
        return thresholds.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def option(
    parser: argparse.ArgumentParser, *flags: str, env: str, default=None, type=str, help: str = "", **kw
) -> None:
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
    shown = (
        ""
        if default in (None, [], (), False)
        else f" (default {default if not isinstance(default, tuple) else ','.join(map(str, default))})"
    )
    if action in ("store_true", "append"):
        if action == "append":
            kw["type"] = type
        # append adds to the default list: start from a copy so flags extend env values.
        parser.add_argument(
            *flags, default=list(default) if action == "append" else default, help=f"{help}{shown} [env {env}]", **kw
        )
    else:
        parser.add_argument(*flags, default=default, type=type, help=f"{help}{shown} [env {env}]", **kw)


def common() -> argparse.ArgumentParser:
    """Every command's options, as a parent parser."""
    parser = argparse.ArgumentParser(add_help=False)
    option(parser, "--gateway", env="LOADGEN_GATEWAY_URL", default="http://localhost:8000", help="gateway base URL")
    option(
        parser,
        "--backend",
        env="LOADGEN_BACKEND_URL",
        default="http://localhost:8001",
        help="backend base URL (to check it is idle and record its settings)",
    )
    option(parser, "--results", env="LOADGEN_RESULTS", default=Path("results"), type=Path, help="results folder")
    option(
        parser,
        "--timeout",
        env="LOADGEN_TIMEOUT",
        default=60.0,
        type=duration,
        help="per-request timeout; slower responses count as timeouts, never vanish",
    )
    option(
        parser,
        "--no-drain",
        env="LOADGEN_NO_DRAIN",
        action="store_true",
        help="do not wait for idle services before each scenario",
    )
    option(
        parser,
        "--replicas",
        env="LOADGEN_REPLICAS",
        default=0,
        type=at_most(int, 64),
        help="run every measurement on this many `loadgen replica` servers at --replicas-at, merged "
        "into one result (0: in this process, or its --workers); docs/swarm.md",
    )
    option(
        parser,
        "--replicas-at",
        env="LOADGEN_REPLICAS_AT",
        default="tasks.loadgen:9100",
        help="HOST[:PORT], comma-separated, naming every replica (Swarm's tasks.<service> names each task)",
    )
    option(parser, "--quiet", env="LOADGEN_QUIET", action="store_true", help="no live progress line even on a terminal")
    option(
        parser,
        "--fail-if",
        env="LOADGEN_FAIL_IF",
        default=[],
        action="append",
        type=threshold,
        dest="fail_if",
        help="exit 1 unless CONDITION holds for every measurement, e.g. 'p99<2s' or 'errors==0' "
        "(repeatable; ';'-separated in the env twin)",
    )
    return parser


# The load-shape options the experiments share; each experiment picks its own defaults.


def aggregation(parser, fanout: int, delay: float, delay_help: str = "backend delay per call") -> None:
    """--fanout and --delay: the aggregation every request asks the gateway for."""
    option(
        parser, "--fanout", env="LOADGEN_FANOUT", default=fanout, type=positive(int), help="calls per aggregation (n)"
    )
    option(parser, "--delay", env="LOADGEN_DELAY", default=delay, type=duration, help=delay_help)


def window(parser, length: float, warmup: float, per: str = "cell") -> None:
    """--duration and --warmup of each measured cell (or scenario)."""
    option(parser, "--duration", env="LOADGEN_DURATION", default=length, type=duration, help=f"window per {per}")
    option(parser, "--warmup", env="LOADGEN_WARMUP", default=warmup, type=duration, help=f"warm-up per {per}")
    workers(parser)


def workers(parser) -> None:
    """--workers: loadgen processes sharing the load, for when one event loop saturates."""
    option(
        parser,
        "--workers",
        env="LOADGEN_WORKERS",
        default=1,
        type=positive(int, 16),
        help="loadgen processes, one event loop each, started together; concurrency or rate is split among them",
    )


def rates(parser, help: str, default: tuple[float, ...] = ()) -> None:
    option(parser, "--rates", env="LOADGEN_RATES", default=default, type=rates_type, help=help)


def levels(parser, default: tuple[int, ...]) -> None:
    option(parser, "--levels", env="LOADGEN_LEVELS", default=default, type=levels_type, help="concurrency levels")


def strategies(parser, default: tuple[str, ...], allowed=tuple(STRATEGIES), help: str = "") -> None:
    option(parser, "--strategies", env="LOADGEN_STRATEGIES", default=default, type=choices(allowed), help=help)


def client(parser, default: str, help: str) -> None:
    option(parser, "--client", env="LOADGEN_CLIENT", default=default, choices=CLIENT_CHOICES, help=help)


def one_client(text: str) -> tuple[str, ...]:
    if text not in CLIENT_CHOICES:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(CLIENT_CHOICES)}: {text!r}")
    return (text,)


def clients(parser, default: tuple[str, ...], help: str) -> None:
    """--clients, a list, and --client, one client into the same list: the single flag the
    sweep had before it took several keeps working, and so does its twin LOADGEN_CLIENT
    when LOADGEN_CLIENTS is not set."""
    legacy = os.environ.get("LOADGEN_CLIENT", "").strip()
    if legacy and not os.environ.get("LOADGEN_CLIENTS", "").strip():
        try:
            default = one_client(legacy)
        except argparse.ArgumentTypeError as exc:
            parser.error(f"LOADGEN_CLIENT={legacy!r}: {exc}")
    option(parser, "--clients", env="LOADGEN_CLIENTS", default=default, type=choices(CLIENT_CHOICES), help=help)
    parser.add_argument(
        "--client",
        dest="clients",
        type=one_client,
        default=argparse.SUPPRESS,
        metavar="CLIENT",
        help="one client: the same as --clients CLIENT [env LOADGEN_CLIENT]",
    )


def open_loop(parser, rate: float) -> None:
    """--strategy and --rate: one strategy at a steady rate of aggregations."""
    option(parser, "--strategy", env="LOADGEN_STRATEGY", default="gather", choices=tuple(STRATEGIES))
    option(parser, "--rate", env="LOADGEN_RATE", default=rate, type=positive(float, 1000), help="aggregations/s")
    workers(parser)


def target(parser, default: str) -> None:
    option(parser, "--target", env="LOADGEN_TARGET", default=default, choices=ARTICLE_TARGETS, help="backend view")


# A run() parameter whose flag has another name.
FLAG_OF = {"n": "fanout"}


def arguments(args: argparse.Namespace, run: Callable[..., Any], without: tuple[str, ...] = ()) -> dict[str, Any]:
    """run()'s keyword arguments from the parsed flags, each parameter by its flag's name,
    so an experiment's command needs no line per flag. Every parameter but `lab` and those
    named in `without` (which the command passes itself) must have its flag: a run()
    parameter the CLI silently never set would run at its default whatever was asked."""
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    parameters = inspect.signature(run).parameters.values()
    wanted = [p.name for p in parameters if p.kind in named and p.name != "lab" and p.name not in without]
    missing = [name for name in wanted if not hasattr(args, FLAG_OF.get(name, name))]
    if missing:
        raise TypeError(f"{run.__module__}.run(): no flag for {', '.join(missing)} (options() must add one)")
    return {name: getattr(args, FLAG_OF.get(name, name)) for name in wanted}
