"""Who runs a measurement: this machine (`Local`: this process, or `plan.workers` local
processes when one event loop is not enough) or `loadgen replica` servers elsewhere
(`Replicas`). The CLI chooses the engine once per invocation and hands it to every
experiment on its Lab; the rest of loadgen never asks which one it has."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Protocol

from . import runner, workers
from .figures import figures, process
from .plan import Plan, processes_for
from .tally import merge


class Engine(Protocol):
    async def run(self, plan: Plan, label: str = "run", progress: bool | None = None) -> dict:
        """Warm up, measure, and return every figure of the measured requests."""

    def describe(self) -> dict:
        """What a result's environment records of where the load came from."""


def merged(plan: Plan, parts: list[dict]) -> dict:
    """The figures of several processes' snapshots, added into one tally."""
    cpu = sum(part["cpu"] for part in parts)
    wall = max(part["wall"] for part in parts)
    return figures(plan, merge(parts), cpu, wall, processes=[process(part) for part in parts])


class Local:
    """This process, or plan.workers spawned processes sharing the plan."""

    async def run(self, plan: Plan, label: str = "run", progress: bool | None = None) -> dict:
        count = processes_for(plan)
        if count == 1:
            tally, cpu, wall = await runner.measure(replace(plan, workers=1), label, progress)
            return figures(plan, tally, cpu, wall)
        # Off the event loop: the parent's loop keeps sampling the services meanwhile.
        return merged(plan, await asyncio.to_thread(workers.run_processes, plan, count))

    def describe(self) -> dict:
        return {}


class Replicas:
    """Every measurement shared out to the replicas of a connected pool (replicas.Pool)."""

    def __init__(self, pool) -> None:
        self.pool = pool

    async def run(self, plan: Plan, label: str = "run", progress: bool | None = None) -> dict:
        result = merged(plan, await self.pool.parts(plan))
        result["loadgen"]["replicas"] = len(self.pool.connections)
        return result

    def describe(self) -> dict:
        return {"replicas": self.pool.describe()}


LOCAL = Local()
