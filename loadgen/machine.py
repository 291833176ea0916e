"""The machine loadgen runs on: what it is (cores, CPU model, kernel, memory) and how busy
it was during a window, from Linux's /proc. Each reader has a pure parser beside it.

In a container /proc/stat and /proc/cpuinfo are the host's: that is what a measurement
needs, since the services, loadgen and any neighbour share the host's cores.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import NamedTuple

PROC = Path("/proc")


class CpuTimes(NamedTuple):
    """The aggregate "cpu" line of /proc/stat, in clock ticks since boot."""

    user: int
    nice: int
    system: int
    idle: int
    iowait: int
    irq: int
    softirq: int
    steal: int

    @property
    def total(self) -> int:
        # guest and guest_nice are left out: the kernel already counts them in user and nice.
        return sum(self)


def parse_stat(text: str) -> CpuTimes | None:
    """The aggregate "cpu" line of /proc/stat's text, or None if it has none."""
    for line in text.splitlines():
        words = line.split()
        if words and words[0] == "cpu":
            # Old kernels stop before steal (or iowait): what they do not report was zero.
            values = [int(w) for w in words[1:9]]
            return CpuTimes(*values, *[0] * (8 - len(values)))
    return None


def cpu_times() -> CpuTimes | None:
    """The machine's CPU times now; None where there is no /proc/stat (macOS)."""
    try:
        return parse_stat((PROC / "stat").read_text())
    except OSError:
        return None


def shares(start: CpuTimes | None, end: CpuTimes | None, cores: int | None = None) -> dict:
    """How the machine's CPU time went between two readings: stolen by the hypervisor, and
    busy (neither idle nor waiting for I/O), each a share of all the cores' time."""
    total = (end.total - start.total) if start and end else 0
    if total <= 0:
        return {"steal_share": None, "busy_share": None, "cores": cores or os.cpu_count()}
    steal = end.steal - start.steal
    idle = (end.idle - start.idle) + (end.iowait - start.iowait)
    return {"steal_share": steal / total, "busy_share": (total - idle) / total, "cores": cores or os.cpu_count()}


def parse_cpuinfo(text: str) -> dict:
    """The first CPU's "model name" and "cpu MHz" from /proc/cpuinfo's text (None if absent:
    ARM kernels name neither)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            found.setdefault(key.strip(), value.strip())
    mhz = found.get("cpu MHz")
    try:
        mhz = float(mhz) if mhz else None
    except ValueError:
        mhz = None
    return {"cpu_model": found.get("model name") or None, "cpu_mhz": mhz}


def parse_meminfo(text: str) -> int | None:
    """MemTotal from /proc/meminfo's text, in bytes."""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "MemTotal":
            words = value.split()
            if words and words[0].isdigit():
                # The kernel writes "kB" and means KiB.
                return int(words[0]) * 1024
    return None


def _read(name: str) -> str:
    try:
        return (PROC / name).read_text()
    except OSError:
        return ""


def describe() -> dict:
    """What every result records about the machine."""
    return {
        "cores": os.cpu_count(),
        **parse_cpuinfo(_read("cpuinfo")),
        "kernel": platform.release(),
        "memory_bytes": parse_meminfo(_read("meminfo")),
    }
