"""A run stopped by a signal in the middle of a measurement (Ctrl-C sends SIGINT, `docker
compose stop` SIGTERM): what it measured so far, kept as a result marked partial.

`JOURNAL` follows what this process has measured: every finished measurement's figures
(lab.observed), the one under way with its live tally (runner.measure) and the environment
the experiment recorded (probe.environment). `run` runs a command with SIGINT and SIGTERM
caught: a stop takes the figures at that instant, before cancelling anything can add
requests cut off by the stop itself, then cancels the command and hands back the result.
"""

from __future__ import annotations

import asyncio
import copy
import multiprocessing
import signal
import time
from collections.abc import Coroutine
from contextlib import contextmanager
from datetime import UTC, datetime

from asynclab import cpu

from . import machine
from .figures import figures
from .plan import Plan
from .tally import Tally

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Journal:
    """What this process has measured so far, for a stop to keep."""

    def __init__(self) -> None:
        self.begun = time.perf_counter()
        self.done: list[dict] = []
        # The measurement under way: its label, plan, live tally and the clocks at its start.
        self.live: tuple[str, Plan, Tally, float, float] | None = None
        self.label: str | None = None  # the measurement under way, even one run by worker processes
        self.environment: dict | None = None

    def starting(self, label: str) -> None:
        self.label = label

    def finished(self, label: str, result: dict) -> None:
        self.done.append({"label": label, "figures": result})
        self.label = None

    @contextmanager
    def measuring(self, label: str, plan: Plan, tally: Tally, cpu: float, wall: float):
        self.live = (label, plan, tally, cpu, wall)
        try:
            yield
        finally:
            self.live = None

    def now(self) -> dict | None:
        """The figures of the measurement under way as they stand, its window cut at now;
        None when nothing of it has been measured (a stop in its warm-up)."""
        if self.live is None:
            return None
        label, plan, tally, cpu0, wall0 = self.live
        now = time.perf_counter()
        if not tally.started <= now:
            return None
        # A copy: the loops still hold the tally until they are cancelled.
        cut = copy.copy(tally)
        cut.window_end = min(tally.window_end, now)
        if cut.own_cpu_start is None:
            cut.own_cpu_start = time.process_time()
        cut.own_cpu_end = time.process_time()
        cut.cpu_start = cut.cpu_start or machine.cpu_times()
        cut.cpu_end = machine.cpu_times()
        if cut.container_cpu_start is None:
            cut.container_cpu_start = cpu.container_seconds()
        cut.container_cpu_end = cpu.container_seconds()
        found = figures(plan, cut, time.process_time() - cpu0, now - wall0)
        # Sent and not answered when the stop came: neither a success nor an error.
        found["unanswered"] = max(0, tally.sent - found["requests"])
        return found

    def result(self, command: str, reason: str) -> dict:
        """The result of a run stopped for `reason`: its finished measurements, and the one
        under way as far as it went, under a top-level "partial" that says so."""
        under_way = self.now()
        environment = self.environment or {"server_mode": None}
        environment = {**environment, "timestamp": datetime.now(UTC).isoformat(timespec="seconds")}
        result = {
            "experiment": command,
            "environment": environment,
            "partial": {
                "reason": reason,
                "after": round(time.perf_counter() - self.begun, 2),
                "finished": len(self.done),
                "stopped_in": self.label,
                # None: stopped between measurements, in a warm-up, or with the measurement
                # under way in worker processes or replicas, whose tallies die with them.
                "under_way_measured": under_way is not None,
            },
            "measurements": self.done,
        }
        if under_way is not None:
            result["figures"] = under_way
        elif self.done:
            result["figures"] = self.done[-1]["figures"]
        return result


JOURNAL = Journal()


def exit_status(reason: str) -> int:
    """A shell's status for a process ended by that signal: 130 for SIGINT, 143 for SIGTERM."""
    return 128 + signal.Signals[reason].value


def counted(result: dict) -> int:
    return sum(part["figures"]["requests"] for part in result["measurements"]) + (
        result["figures"]["requests"] if result["partial"]["under_way_measured"] else 0
    )


async def _guarded(main: Coroutine, command: str, stopped: dict):
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()

    def stop(signum: int) -> None:
        if stopped:
            return  # a second Ctrl-C while the first one's result is taken
        reason = signal.Signals(signum).name
        stopped["result"] = JOURNAL.result(command, reason)
        # Local worker processes of the measurement under way stop with it, rather than
        # holding the exit until their share of the plan ends.
        for child in multiprocessing.active_children():
            child.terminate()
        task.cancel()

    for signum in SIGNALS:
        loop.add_signal_handler(signum, stop, signum)
    try:
        return await main
    except asyncio.CancelledError:
        if not stopped:
            raise
        return None
    finally:
        for signum in SIGNALS:
            loop.remove_signal_handler(signum)


def run(main: Coroutine, command: str) -> tuple[int | None, dict | None]:
    """(the command's exit status, None) when it ran to its end, (None, the partial result)
    when a signal stopped it."""
    stopped: dict = {}
    status = asyncio.run(_guarded(main, command, stopped))
    return (None, stopped["result"]) if stopped else (status, None)
