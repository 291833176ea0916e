"""`make reference`: `make lab` into docs/reference/ (report, plots, JSON) with the machine
it ran on, then the docs whose figures come from it rendered again (campaigns/docs.py), so
the docs quote a run anyone can repeat instead of figures copied by hand.

`make reference REFERENCE_OF=capacity` (or freethreaded, chat, chat-5k) keeps that campaign's run
instead, in docs/reference/capacity/ beside make lab's, which it leaves alone: the findings
quote each campaign from its own run, and one can be run again without the others.

Run it on a quiet machine: commit it only if no cell of it is `neighbours`.
Time: the campaign's (make lab's ~11 min on 2 cores with warm images; the others say theirs).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import time
from pathlib import Path

from loadgen.budgets import NEIGHBOURS, shares

from . import capacity, chat, chat_5k, docs, freethreaded, lab
from .settings import knob
from .stack import Cell

HELP = "make lab (or REFERENCE_OF's campaign) into docs/reference/ and the docs rendered from it (~11 min)"
# The campaigns whose runs the docs quote; make lab's is the main one, in the folder itself.
SOURCES = {"lab": lab, "capacity": capacity, "freethreaded": freethreaded, "chat": chat, "chat-5k": chat_5k}
OF = knob("REFERENCE_OF", "lab")
RESULTS = "docs/reference" if OF == "lab" else f"docs/reference/{OF}"


def cells() -> list[Cell]:
    if OF not in SOURCES:
        raise SystemExit(f"REFERENCE_OF={OF}: one of {', '.join(SOURCES)}")
    return SOURCES[OF].cells()


def prepare(results: Path) -> None:
    """A folder with no other run's files: a reference is one run, never a mix of two. The
    other campaigns' folders inside make lab's stay."""
    results.mkdir(parents=True, exist_ok=True)
    for path in results.iterdir():
        if path.is_file():
            path.unlink()
        elif OF != "lab":
            shutil.rmtree(path)


def _output(*argv: str) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def machine() -> dict:
    """What the run ran on, for docs/reference/machine.json and the docs that quote it."""
    memory = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")),
        None,
    )
    compose = os.environ.get("COMPOSE", "docker compose").split()
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(int(memory) / 2**20) if memory else None,
        "kernel": platform.release(),
        "arch": platform.machine(),
        "docker": _output("docker", "version", "-f", "{{.Server.Version}}"),
        "compose": _output(*compose, "version", "--short") or _output(*compose, "version"),
        "git_commit": os.environ.get("GIT_COMMIT"),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }


def finish(results: Path) -> int:
    facts = machine()
    (results / "machine.json").write_text(json.dumps(facts, indent=1) + "\n")
    command = "make reference" + ("" if OF == "lab" else f" REFERENCE_OF={OF}")
    settings = (
        "`make lab`'s (campaigns/lab.py: each service half a core, WORKERS=1, THREADS=10)"
        if OF == "lab"
        else f"`make {OF}`'s (campaigns/{OF}.py)"
    )
    (results / "README.md").write_text(
        "# Reference run\n\n"
        f"`{command}` on {facts['date']}, commit {facts['git_commit']}: [report.md](report.md), one JSON "
        "file per experiment and mode, `machine.json` (the machine), and the run's record (`*-campaign-*.json`: "
        "every step and its time).\n\n"
        f"Settings: {settings}; the versions of every service are in each JSON file's environment.\n\n"
        + outside(results)
    )
    return docs.main()


def outside(results: Path) -> str:
    """What the host did beyond the lab's own share in each judged cell's window (rule 0:
    the Docker engine's work for the lab, the kernel's network stack, steal, any neighbour),
    from the run's own JSON: a reference is committed only with no cell `neighbours`."""
    gaps, disturbed = [], 0
    for path in sorted(results.glob("*.json")):
        saved = json.loads(path.read_text())
        for cell in saved.get("cells") or []:
            bound = cell.get("bound") or {}
            if bound.get("neighbours") is not None:
                gaps.append(bound["neighbours"])
            disturbed += bound.get("bound_by") == "neighbours"
        # The article's rows are measured again like cells, and marked when they stay disturbed.
        disturbed += sum(bool((row.get("figures") or {}).get("disturbed")) for row in saved.get("rows") or [])
        # A capacity search's steps: each a measurement of its own, judged the same way.
        for step in saved.get("steps") or []:
            figures = step.get("figures") or {}
            beyond = shares(figures)[2]
            if beyond is not None:
                gaps.append(beyond)
            disturbed += bool(figures.get("disturbed"))
    if not gaps:
        return "No cell of this run has the host's busy share beside the lab's.\n"
    gaps.sort()
    return (
        f"The host beyond the lab's own share (its containers' CPU) over each of the {len(gaps)} judged cells' "
        f"(or steps') windows: median {gaps[len(gaps) // 2]:.1%}, highest {gaps[-1]:.1%} of its cores "
        f"(rule 0 re-runs a cell at {NEIGHBOURS:.0%}); cells, article rows and steps left `neighbours`: {disturbed}.\n"
    )
