"""The Docker engine's own CPU for the lab, metered on the host while a campaign runs, so that
loadgen can count it as the lab's (rule 0 of loadgen/bounds.py) instead of a neighbour's.

loadgen runs in a container and sees the host's /proc/stat (every process's CPU, and steal)
but of the processes only its own container's; each service reports its container's
cgroup. What neither sees is what the engine does for them outside every container:
dockerd's log pipe (every request's log lines), the storage driver (fuse-overlayfs, where it
is the one, reads every file a container opens), containerd and its shims, runc for each
healthcheck, docker-proxy, the compose client, and the kernel's interrupts and softirqs that
carry the lab's packets. With steal, on this lab's machine those came to more than rule 0's
10 % of the cores in cells with no neighbour at all.

`Meter(folder)` samples those processes' CPU (by name: ENGINE) and /proc/stat's irq and
softirq every INTERVAL, and keeps the last WINDOW samples in `folder/FILE` (rewritten whole,
then renamed: never half-written), each stamped with CLOCK_MONOTONIC, which the host and
every container share. loadgen reads the file from its results folder
(loadgen/engine.py) and takes the engine's CPU over a cell's window from it. Other
containers' processes are not the engine: they stay a neighbour's, as does steal.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from pathlib import Path

from loadgen.engine_meter import FILE

INTERVAL = 0.25
WINDOW = 480  # samples kept: two minutes, more than any window a reading needs
# The engine's processes, by their /proc/<pid>/comm (15 characters at most).
ENGINE = frozenset(
    {
        "dockerd",
        "containerd",
        "containerd-shim",  # containerd-shim-runc-v2, cut to comm's 15 characters
        "fuse-overlayfs",
        "runc",
        "docker-proxy",
        "docker-compose",
        "docker",
    }
)
TICK = os.sysconf("SC_CLK_TCK")


def parse_process(stat: str) -> tuple[str, float]:
    """(comm, CPU seconds) from /proc/<pid>/stat's text; comm may hold spaces and parens."""
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    return name, (int(fields[11]) + int(fields[12])) / TICK


def kernel_seconds(text: str) -> float:
    """irq + softirq seconds, all CPUs, from /proc/stat's first line."""
    fields = text.splitlines()[0].split()
    return (int(fields[6]) + int(fields[7])) / TICK


class Counter:
    """The engine's CPU seconds since it started counting, read from a /proc tree: each
    engine process's CPU as it grows (a new one's whole, one that exited keeps what it had
    at its last reading), plus the kernel's interrupts."""

    def __init__(self, proc: Path = Path("/proc")) -> None:
        self.proc = proc
        self.seen: dict[int, float] | None = None
        self.total = 0.0
        self.kernel0: float | None = None

    def read(self) -> float:
        now: dict[int, float] = {}
        for entry in self.proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                name, seconds = parse_process((entry / "stat").read_text())
            except (OSError, ValueError, IndexError):
                continue
            if name in ENGINE:
                now[int(entry.name)] = seconds
        if self.seen is not None:  # the first reading is the baseline: nothing counted before it
            for pid, seconds in now.items():
                # A process started since the last reading counts whole.
                self.total += seconds - self.seen.get(pid, 0.0)
        self.seen = now
        kernel = kernel_seconds((self.proc / "stat").read_text())
        if self.kernel0 is None:
            self.kernel0 = kernel
        return self.total + kernel - self.kernel0


class Meter:
    """`with Meter(results_folder):` the engine's CPU, sampled in a thread into FILE."""

    def __init__(self, folder: Path, proc: Path = Path("/proc"), interval: float = INTERVAL) -> None:
        self.path = folder / FILE
        self.counter = Counter(proc)
        self.interval = interval
        self.samples: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="engine-meter", daemon=True)

    def sample(self) -> None:
        self.samples.append({"at": round(time.monotonic(), 4), "cpu_seconds": round(self.counter.read(), 4)})
        del self.samples[:-WINDOW]
        partial = self.path.with_name(self.path.name + ".new")
        partial.write_text(json.dumps({"samples": self.samples}))
        partial.chmod(0o644)
        os.replace(partial, self.path)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with contextlib.suppress(OSError):
                self.sample()

    def __enter__(self) -> Meter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The first reading counts nothing that ran before it: the engine's CPU from now.
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        with contextlib.suppress(OSError):
            self.path.unlink()
