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


def _own_path(text: str, v2: bool) -> str | None:
    """This process's cgroup in /proc/self/cgroup's text: the unified line's ("0::/path") on
    v2, the cpuacct controller's on v1."""
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2)
        if (v2 and controllers == "") or (not v2 and "cpuacct" in controllers.split(",")):
            return path.strip()
    return None


def container_seconds(root: Path = ROOT, own: str | None = None) -> float | None:
    """CPU seconds every process of this process's cgroup has used (a container's: its
    server's master and workers, healthchecks and `docker exec`s too), or None where that
    cgroup is the machine's root or unreadable. `own`: /proc/self/cgroup's text.

    The lab's own share of the machine is its containers' whole CPU: counting the server's
    workers alone leaves the rest to pass for a neighbour's load (rule 0, loadgen/bounds.py).
    Inside a container its cgroup is the one mounted at /sys/fs/cgroup (the host's path to
    it, which /proc/self/cgroup gives under v1, is not under that mount); on a host, the
    process's path under the mount is its own cgroup.
    """
    if own is None:
        own = _read(Path("/proc/self/cgroup")) or ""
    v2 = (root / "cgroup.controllers").exists()
    path = _own_path(own, v2)
    if path is None or (path == "/" and not v2):
        # v1's root: the whole machine's counter, not a container's. (Under v2 a private
        # cgroup namespace shows a container its own cgroup as "/".)
        return None
    if v2:
        text = _read(root / path.lstrip("/") / "cpu.stat")
        for line in (text or "").splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                return int(value) / 1e6
        return None
    base = root / "cpuacct" if (root / "cpuacct").is_dir() else root / "cpu,cpuacct"
    usage = _read(base / path.lstrip("/") / "cpuacct.usage") or _read(base / "cpuacct.usage")
    try:
        return int(usage) / 1e9 if usage else None
    except ValueError:
        return None
