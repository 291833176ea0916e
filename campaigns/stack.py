"""The lab's stack as a campaign drives it: `make up` with knobs, `compose run loadgen`,
`make down`, the report, each a Step; a Campaign's Cells become a run of Steps in which a
failing step is recorded and the rest still run, teardown is certain, and the record of
the run (every step's command, status, seconds and, when it failed, why) is a result file
the report reads like any other.

make stays the owner of what it is good at (images as file targets, `make up`'s health
wait); everything with a loop, a list or a decision is here.

Over 250 lines: steps, their running and the record of the run are one mechanism every
campaign shares.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import engine

ROOT = Path(__file__).resolve().parent.parent
# Every profile a campaign may have started: `make down` stops them all (the Makefile's own list).
PROFILES = ("netem", "loadgen", "postgres", "nginx", "redis")
# How much of a failed step's output its record keeps, to say why.
TAIL = 15


def compose_command() -> list[str]:
    """COMPOSE from make, else compose v2 when the plugin is there, else docker-compose 1.29."""
    given = os.environ.get("COMPOSE", "").strip()
    if given:
        return shlex.split(given)
    v2 = subprocess.run(["docker", "compose", "version"], capture_output=True) if shutil.which("docker") else None
    return ["docker", "compose"] if v2 is not None and v2.returncode == 0 else ["docker-compose"]


@dataclass(frozen=True)
class Step:
    kind: str  # up | loadgen | down | report | host
    knobs: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    label: str = ""
    # compose run's own options for a loadgen step (-e LOADGEN_GATEWAY_URL=...).
    options: tuple[str, ...] = ()
    # Host commands run while the step runs, each at its second from the step's start
    # (make faults: stop the backend 15 s in, start it again 10 s later).
    during: tuple[tuple[float, tuple[str, ...]], ...] = ()
    # A host command the loadgen step runs inside (docker/nginx/cost.sh LABEL SERVICE ...).
    wrapper: tuple[str, ...] = ()

    def command(self, compose: Sequence[str]) -> list[str]:
        make = ["make", "--no-print-directory"]
        knobs = [f"{name}={value}" for name, value in self.knobs.items()]
        if self.kind == "up":
            return [*make, "up", *knobs]
        if self.kind == "down":
            return [*make, "down", *knobs]
        if self.kind in ("loadgen", "report"):
            args = self.args if self.kind == "loadgen" else ("report",)
            return [*self.wrapper, *compose, "run", "--rm", "--no-deps", *self.options, "loadgen", *args]
        return _resolved(self.args, compose)  # host: a command of the campaign's own

    def shown(self, compose: Sequence[str]) -> str:
        env = " ".join(f"{k}={v}" for k, v in self.knobs.items() if self.kind in ("loadgen", "report", "host"))
        return " ".join(filter(None, (env, shlex.join(self.command(compose)))))


def loadgen(*args: str, options: tuple[str, ...] = (), during=(), wrapper=()) -> Step:
    """A loadgen run inside a cell (its knobs and label come from the cell)."""
    return Step("loadgen", args=tuple(args), options=tuple(options), during=tuple(during), wrapper=tuple(wrapper))


def host(*args: str) -> Step:
    """A command of the campaign's own on the host, inside a cell."""
    return Step("host", args=tuple(args))


@dataclass(frozen=True)
class Cell:
    """One set-up of the stack and what runs against it: loadgen's arguments (a tuple of
    words) or a Step of loadgen() or host()."""

    knobs: dict[str, str]
    runs: tuple[tuple[str, ...] | Step, ...]
    # Shown in the record and the report: "asgi", "Django 3.1, wsgi", ...
    label: str = ""

    def steps(self) -> list[Step]:
        found = [Step("up", self.knobs, label=self.label)]
        for run in self.runs:
            step = run if isinstance(run, Step) else loadgen(*run)
            found.append(Step(step.kind, self.knobs, step.args, self.label, step.options, step.during, step.wrapper))
        return [*found, Step("down", self.knobs, label=self.label)]


def steps(cells: Sequence[Cell]) -> list[Step]:
    """The steps of a campaign's cells in order (each: up, its runs, down), then the report."""
    return [*(step for cell in cells for step in cell.steps()), Step("report")]


def _env(step: Step, compose: Sequence[str] = ()) -> dict[str, str]:
    # The knobs reach compose as make passes them: in the environment, for interpolation;
    # COMPOSE for a host command that drives the stack itself (docker/nginx/cost.sh).
    return {**os.environ, **step.knobs, **({"COMPOSE": shlex.join(compose)} if compose else {})}


def _resolved(command: Sequence[str], compose: Sequence[str]) -> list[str]:
    """A host command whose first word is `compose` runs the stack's compose command."""
    return [*compose, *command[1:]] if command and command[0] == "compose" else list(command)


def run_step(step: Step, compose: Sequence[str], echo: Callable[[str], None]) -> tuple[int, list[str]]:
    """Run one step with its output on our stdout as it comes; (exit status, last lines)."""
    tail: collections.deque[str] = collections.deque(maxlen=TAIL)
    try:
        process = subprocess.Popen(
            step.command(compose),
            cwd=ROOT,
            env=_env(step, compose),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
    except OSError as exc:
        return 127, [str(exc)]
    assert process.stdout is not None
    actions = _during(step, process, compose, echo) if step.during else None
    for line in process.stdout:
        echo(line.rstrip("\n"))
        tail.append(line.rstrip("\n"))
    code = process.wait()
    if actions is not None:
        actions.join()
    return code, list(tail)


def _during(
    step: Step, process: subprocess.Popen, compose: Sequence[str], echo: Callable[[str], None]
) -> threading.Thread:
    """Run the step's host actions at their times while it runs; none after it has ended."""
    start = time.monotonic()

    def act() -> None:
        for at, command in sorted(step.during):
            while time.monotonic() - start < at:
                if process.poll() is not None:
                    echo(f"== {shlex.join(command)}: not run, the step ended first")
                    return
                time.sleep(0.1)
            echo(f"== at {at:g} s: {shlex.join(_resolved(command, compose))}")
            done = subprocess.run(
                _resolved(command, compose), cwd=ROOT, env=_env(step, compose), capture_output=True, text=True
            )
            for line in (done.stdout + done.stderr).splitlines():
                echo(f"   {line}")

    thread = threading.Thread(target=act, name="during", daemon=True)
    thread.start()
    return thread


@dataclass
class Record:
    """What a campaign run did, step by step; saved as a result the report reads."""

    name: str
    started: float = field(default_factory=time.time)
    steps: list[dict] = field(default_factory=list)

    def add(self, step: Step, status: str, seconds: float, why: list[str] | None = None, code=None) -> None:
        entry = {"kind": step.kind, "label": step.label, "args": list(step.args), "knobs": step.knobs}
        entry.update(status=status, seconds=round(seconds, 1))
        if code is not None:
            entry["exit"] = code
        if why:
            entry["why"] = why
        self.steps.append(entry)

    @property
    def failed(self) -> list[dict]:
        return [s for s in self.steps if s["status"] != "ok"]

    def result(self) -> dict:
        stamp = datetime.fromtimestamp(self.started, UTC).isoformat(timespec="seconds")
        return {
            "experiment": "campaign",
            "variant": self.name,
            "environment": {"timestamp": stamp, "server_mode": "all", "git_commit": os.environ.get("GIT_COMMIT")},
            "seconds": round(time.time() - self.started, 1),
            "steps": self.steps,
            "failed": len(self.failed),
        }

    def save(self, folder: Path) -> Path:
        result = self.result()
        stamp = result["environment"]["timestamp"].replace("-", "").replace(":", "")[:15]
        path = folder / f"{stamp}-campaign-{self.name}-all.json"
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=1) + "\n")
        return path


class Stack:
    """Runs a campaign's steps: for real, or (dry_run) only saying what it would run."""

    def __init__(self, results: Path, dry_run: bool = False, echo: Callable[[str], None] = print) -> None:
        self.results = results
        self.dry_run = dry_run
        self.echo = echo
        self.compose = ["docker", "compose"] if dry_run and not os.environ.get("COMPOSE") else compose_command()

    def step(self, step: Step, record: Record) -> bool:
        self.echo(f"== {step.label + ': ' if step.label else ''}{step.shown(self.compose)}")
        for at, command in step.during:
            self.echo(f"   and at {at:g} s: {shlex.join(_resolved(command, self.compose))}")
        if self.dry_run:
            return True
        begin = time.monotonic()
        code, tail = run_step(step, self.compose, self.echo)
        seconds = time.monotonic() - begin
        if code == 0:
            record.add(step, "ok", seconds)
            return True
        record.add(step, "failed", seconds, tail, code)
        self.echo(f"== failed (exit {code}): {step.shown(self.compose)}; going on with the next step")
        return False

    def skip(self, step: Step, record: Record, why: str) -> None:
        self.echo(f"== skipped: {step.shown(self.compose)} ({why})")
        if not self.dry_run:
            record.add(step, "skipped", 0.0, [why])

    def run(self, name: str, cells: Sequence[Cell]) -> int:
        """Every cell's steps, each failure recorded and the rest run anyway; the report from
        whatever was measured; exit status 0 only when every step succeeded."""
        record = Record(name)
        plan = steps(cells)
        report = plan.pop()
        # The engine's own CPU for the lab, metered here on the host for loadgen to count
        # as the lab's (campaigns/engine.py).
        with engine.Meter(self.results) if not self.dry_run else contextlib.nullcontext():
            try:
                index = 0
                while index < len(plan):
                    step = plan[index]
                    index += 1
                    if not self.step(step, record) and step.kind == "up":
                        # Nothing to measure on a stack that did not come up: skip to its down.
                        while plan[index].kind == "loadgen":
                            self.skip(plan[index], record, "the stack did not come up")
                            index += 1
            finally:
                if not self.dry_run:
                    # Whatever happened above, no container of the campaign outlives it.
                    subprocess.run(["make", "--no-print-directory", "down"], cwd=ROOT, capture_output=True)
        if not self.dry_run:
            saved = record.save(self.results)
            self.echo(f"== the run's record: {saved}")
        self.step(report, record)
        elapsed = time.time() - record.started
        failed = record.failed
        self.echo(f"{name} done in {elapsed:.0f} s: open {self.results}/report.md")
        for step in failed:
            self.echo(f"{name}: {step['status']}: {' '.join(step['args']) or step['kind']} ({step['label']})")
        return 1 if failed else 0
