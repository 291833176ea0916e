"""The memory of a parked thread and a parked task in the *backend's* interpreter, measured
from the host: `python -m campaigns.parked THREADS TASKS` while the stack is up.

loadgen's own `freethreaded` and `resources` park them in a child of loadgen's interpreter,
the default image's: on PYTHON=3.14t that says nothing of the interpreter under test, and
loadgen has no way into the backend's container (no docker socket is mounted, by design).
The host has: each count runs in a child of the backend image's Python (`compose exec -T
backend python -m loadgen.memory`, the same code loadgen runs), which reports its own
version and GIL, and the result is saved as a freethreaded result whose `memory` says it
was the backend's (`where.of_backend`), beside the backend's /healthz of the moment.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from asynclab import knobs
from loadgen import memory, probe
from loadgen.experiments import freethreaded
from loadgen.lab import Lab
from loadgen.results import save

from .settings import knob
from .stack import ROOT, compose_command

KINDS = ("threads", "tasks_event")


def published(service: str) -> str:
    """A service as compose publishes it on the host (PUBLISH_HOST, BACKEND_PORT ...)."""
    host = knobs.read("PUBLISH_HOST")
    # Published on every address: loopback is one of them.
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{host}:{knobs.read(service.upper() + '_PORT')}"


def measure(python: Sequence[str], counts: dict[str, int], lab: Lab) -> tuple[dict, Path | None]:
    """Park `counts` in children started by `python`, and save them in lab.results as a
    freethreaded result with the stack's /healthz of the moment (what every result records)."""
    env = asyncio.run(probe.environment(lab))
    health = env.get("backend")
    parked = {kind: memory.measure(kind, count, python=python) for kind, count in counts.items()}
    child = next((found for found in parked.values() if "python" in found), {})
    parked["where"] = {
        "interpreter": "backend",
        "python": child.get("python"),
        "free_threaded_build": child.get("free_threaded_build"),
        "gil_enabled": child.get("gil_enabled"),
        "of_backend": True,
        "command": list(python),
        "note": "a fresh child of the backend image's interpreter, importing only the standard library",
    }
    interpreter = freethreaded.python_of(health)
    result = {
        "experiment": "freethreaded",
        "variant": f"py{interpreter['label'] or 'unknown'}-memory",
        "environment": env,
        "python": interpreter,
        "gil": freethreaded.verdict(health, health),
        "scenario": {"parts": ["memory"], "counts": counts, "workers": None, "threads": None, "ms": None},
        "measured": {},
        "memory": parked,
        "cells": [],
    }
    return result, save(lab, result)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not all(word.isdigit() and 1 <= int(word) <= 1_000_000 for word in argv):
        print("usage: python -m campaigns.parked THREADS TASKS (1..1000000 each)", file=sys.stderr)
        return 2
    counts = dict(zip(KINDS, map(int, argv), strict=True))
    python = [*compose_command(), "exec", "-T", "backend", "python"]
    lab = Lab(
        gateway=published("gateway"), backend=published("backend"), results=ROOT / knob("RESULTS_DIR", "./results")
    )
    result, path = measure(python, counts, lab)
    for kind in KINDS:
        found = result["memory"][kind]
        each = found.get("bytes_each")
        print(
            f"  memory in the backend's interpreter: {counts[kind]} {kind}: "
            + (f"{each / 1024:.1f} KiB each" if each is not None else found.get("error", "?"))
        )
    print(f"  saved: {path}")
    return 0 if all("bytes_each" in result["memory"][kind] for kind in KINDS) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
