"""The CPU this process may use, as the kernel enforces it: its cgroup's quota and cpuset.

Read from inside, not from configuration, so a result records the budget that really
applied (compose's `cpus` and `cpuset`, BACKEND_CPUS / BACKEND_CPUSET and the like), under
cgroup v1 or v2 alike.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


def quota_cores(cpu_max: str | None = None, quota_us: str | None = None, period_us: str | None = None) -> float | None:
    """Cores' worth of CPU time per period, or None when unlimited.

    cgroup v2 writes "max 100000" or "50000 100000" in cpu.max; v1 has cpu.cfs_quota_us (-1
    when unlimited) beside cpu.cfs_period_us.
    """
    if cpu_max is not None:
        quota, _, period = cpu_max.strip().partition(" ")
    elif quota_us is not None and period_us is not None:
        quota, period = quota_us.strip(), period_us.strip()
    else:
        return None
    if quota in ("max", "-1") or not period:
        return None
    return round(int(quota) / int(period), 3)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def budget(root: Path = ROOT) -> dict[str, float | int | str | None]:
    """{"cores": the CPU time it may use, in cores (the quota, or the CPUs it may run on if
    fewer), "quota": the quota alone (None: unlimited), "cpuset": the CPUs it may run on,
    "online": the machine's CPUs}."""
    if (root / "cpu.max").exists():
        quota = quota_cores(_read(root / "cpu.max"))
    else:
        quota = quota_cores(
            quota_us=_read(root / "cpu" / "cpu.cfs_quota_us"), period_us=_read(root / "cpu" / "cpu.cfs_period_us")
        )
    cpuset = _read(root / "cpuset.cpus.effective") or _read(root / "cpuset" / "cpuset.effective_cpus")
    cpuset = (cpuset or _read(root / "cpuset" / "cpuset.cpus") or "").strip() or None
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return {
        "cores": usable if quota is None else min(quota, usable),
        "quota": quota,
        "cpuset": cpuset,
        "online": os.cpu_count(),
    }
