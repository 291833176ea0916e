"""Per-worker telemetry: threads, memory, CPU, requests in flight, event-loop lag.

Each worker process keeps its own figures and a sampler thread publishes them every
PUBLISH seconds to a folder its service's processes share (made per server by
asynclab.entrypoint), so whichever worker answers GET /telemetry reports every worker, plus
the server's master process when it has one.

Peaks come twice: since the process started, and "recent" (the last one to two seconds),
which is what a load generator polling every half second needs to find a scenario's peak.

Over 250 lines: sampling a worker, publishing it to the shared folder and combining every
worker's figures are one protocol, kept in one place.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from . import collector, cpu, gil

SAMPLE = 0.05  # seconds between thread/RSS samples and event-loop ticks
PUBLISH = 0.25  # seconds between writes of this worker's file
DIR_ENV = "ASYNCLAB_TELEMETRY_DIR"
MASTER_ENV = "ASYNCLAB_SERVER_PID"
# Paths that are about the service, not load on it: they do not move the counters.
UNCOUNTED = frozenset({"/healthz", "/telemetry", "/database"})
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class Peak:
    """The largest value seen: ever, and in the current plus the previous whole second."""

    def __init__(self) -> None:
        self.ever = 0.0
        self._second = -1
        self._this = self._last = 0.0

    def observe(self, value: float, now: float | None = None) -> None:
        second = int(time.monotonic() if now is None else now)
        if second != self._second:
            self._last = self._this if second == self._second + 1 else 0.0
            self._this, self._second = 0.0, second
        self._this = max(self._this, value)
        self.ever = max(self.ever, value)

    def recent(self, now: float | None = None) -> float:
        second = int(time.monotonic() if now is None else now)
        if second == self._second:
            return max(self._this, self._last)
        return self._this if second == self._second + 1 else 0.0


def _fields(text: bytes) -> list[bytes]:
    """/proc/<pid>/stat after the command name (which may hold spaces): field n is [n - 3]."""
    return text[text.rindex(b")") + 2 :].split()


def stat_fields(pid: int | str) -> list[bytes] | None:
    """/proc/<pid>/stat's fields after the command name (field n is [n - 3]), None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return _fields(stat.read())
    except (OSError, ValueError):
        return None


def threads_of(pid: int | str = "self") -> int | None:
    fields = stat_fields(pid)
    if fields is None:
        return threading.active_count() if pid == "self" else None
    return int(fields[17])  # num_threads: what listing /proc/<pid>/task counts, in one read


def rss_of(pid: int | str = "self") -> int | None:
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def cpu_of(pid: int | str) -> float | None:
    fields = stat_fields(pid)
    return None if fields is None else (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


class Sampler:
    """This process's thread count and RSS, read with pread from its own /proc stat and statm
    kept open: the sampler reads them 20 times a second, and listing /proc/self/task plus
    opening statm each time cost ~4 ms of CPU a second where this costs ~2 (measured idle)."""

    def __init__(self) -> None:
        try:
            self._stat: int | None = os.open("/proc/self/stat", os.O_RDONLY)
            self._statm: int | None = os.open("/proc/self/statm", os.O_RDONLY)
        except OSError:
            self._stat = self._statm = None

    def read(self) -> tuple[int | None, int | None]:
        if self._stat is not None and self._statm is not None:
            try:
                threads = int(_fields(os.pread(self._stat, 4096, 0))[17])
                return threads, int(os.pread(self._statm, 256, 0).split()[1]) * _PAGE
            except (OSError, ValueError, IndexError):
                pass
        return threads_of(), rss_of()


class Worker:
    """This process's figures. The middleware calls enter/leave around every request."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.started = time.time()
        self._lock = threading.Lock()
        self.in_flight = 0
        self.requests = 0
        self.in_flight_peak = Peak()
        self.threads_peak = Peak()
        self.rss_peak = Peak()
        self.lag_peak = Peak()
        self.lag_last: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Set by asynclab.warmup once this process has paid its first-request costs.
        self.warm_ms: float | None = None
        # Set by asynclab.warmup too: why a free-threaded build runs with the GIL (gil.py).
        self.gil_reenabled_by: str | list[str] | None = None
        # Opened here, by this process: an inherited descriptor would read the parent's stat.
        self._own = Sampler()
        # A full collection stops the whole process: loadgen sets its time beside each run.
        self.collector = collector.install(self.pid)

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.in_flight_peak.observe(self.in_flight)

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1
            self.requests += 1

    def sample(self) -> None:
        threads, rss = self._own.read()
        if threads is not None:
            self.threads_peak.observe(threads)
        if rss is not None:
            self.rss_peak.observe(rss)

    def watch_loop(self) -> None:
        """Measure the lag of the running event loop (ASGI): how late a timer fires."""
        loop = asyncio.get_running_loop()
        if loop is self._loop:
            return
        self._loop = loop

        # A timer chain, not a task: nothing is left pending when the server stops.
        def tick(expected: float) -> None:
            if loop is not self._loop:
                return
            lag = max(0.0, loop.time() - expected)
            self.lag_last = lag
            self.lag_peak.observe(lag)
            loop.call_later(SAMPLE, tick, loop.time() + SAMPLE)

        loop.call_later(SAMPLE, tick, loop.time() + SAMPLE)

    def snapshot(self) -> dict[str, Any]:
        threads, rss = self._own.read()
        with self._lock:
            in_flight, requests = self.in_flight, self.requests
            in_flight_ever, in_flight_recent = self.in_flight_peak.ever, self.in_flight_peak.recent()
        return {
            "pid": self.pid,
            "started": round(self.started, 3),
            "updated": round(time.time(), 3),
            "threads": {
                "now": threads,
                "peak": int(max(self.threads_peak.ever, threads or 0)),
                "recent_peak": int(max(self.threads_peak.recent(), threads or 0)),
            },
            "rss_bytes": {
                "now": rss,
                "peak": int(max(self.rss_peak.ever, rss or 0)),
                "recent_peak": int(max(self.rss_peak.recent(), rss or 0)),
            },
            "cpu_seconds": round(time.process_time(), 4),
            "in_flight": {"now": in_flight, "peak": int(in_flight_ever), "recent_peak": int(in_flight_recent)},
            "requests": requests,
            "warm_ms": self.warm_ms,
            # Read at every snapshot: an import after the start can still turn the GIL on.
            "gil_enabled": gil.enabled(),
            "gil_reenabled_by": self.gil_reenabled_by,
            "gc": self.collector.snapshot(),
            "loop_lag_ms": None
            if self._loop is None
            else {
                "last": round((self.lag_last or 0) * 1000, 3),
                "recent_max": round(self.lag_peak.recent() * 1000, 3),
                "max": round(self.lag_peak.ever * 1000, 3),
            },
        }


_worker: Worker | None = None
_start_lock = threading.Lock()


def worker() -> Worker:
    """This process's Worker; a forked child gets a fresh one (and its own sampler)."""
    global _worker
    if _worker is None or _worker.pid != os.getpid():
        with _start_lock:
            if _worker is None or _worker.pid != os.getpid():
                _worker = Worker()
                threading.Thread(target=_sample, args=(_worker,), name="telemetry", daemon=True).start()
    return _worker


def _folder() -> Path | None:
    folder = os.environ.get(DIR_ENV, "")
    return Path(folder) if folder else None


def _sample(me: Worker) -> None:
    published = 0.0
    while me is _worker:
        me.sample()
        now = time.monotonic()
        if now - published >= PUBLISH:
            published = now
            publish(me.snapshot())
        time.sleep(SAMPLE)


def publish(snapshot: dict[str, Any]) -> None:
    folder = _folder()
    if folder is None:
        return
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = folder / f".{snapshot['pid']}.tmp"
        temporary.write_text(json.dumps(snapshot))
        os.replace(temporary, folder / f"{snapshot['pid']}.json")
    except OSError:
        pass  # telemetry must never break serving


def _alive(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}") or _signal_ok(pid)


def _signal_ok(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (OSError, OverflowError):
        return False
    return True


def workers() -> list[dict[str, Any]]:
    """Every live worker's newest figures, this one's taken now."""
    me = worker()
    found = {me.pid: me.snapshot()}
    folder = _folder()
    if folder is not None and folder.is_dir():
        for path in folder.glob("*.json"):
            try:
                pid = int(path.stem)
                if pid in found or not _alive(pid):
                    continue
                found[pid] = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
    return sorted(found.values(), key=lambda snapshot: snapshot["pid"])


def master(worker_pids: list[int]) -> dict[str, Any] | None:
    """The server's supervising process (gunicorn's arbiter, uvicorn's with --workers)."""
    try:
        pid = int(os.environ.get(MASTER_ENV, ""))
    except ValueError:
        return None
    if pid in worker_pids or not _alive(pid):
        return None
    return {"pid": pid, "threads": threads_of(pid), "rss_bytes": rss_of(pid), "cpu_seconds": cpu_of(pid)}


def combine(worker_list: list[dict[str, Any]], master_process: dict[str, Any] | None = None) -> dict[str, Any]:
    """The service's figures: sums over processes (peaks summed are an upper bound, as the
    workers' peaks need not coincide), the worst event-loop lag of any worker."""

    def total(key: str, part: str) -> int:
        return sum((w[key][part] or 0) for w in worker_list)

    extra_threads = (master_process or {}).get("threads") or 0
    extra_rss = (master_process or {}).get("rss_bytes") or 0
    lags = [w["loop_lag_ms"] for w in worker_list if w.get("loop_lag_ms")]
    collected = [w["gc"] for w in worker_list if w.get("gc")]
    return {
        "processes": len(worker_list) + (1 if master_process else 0),
        "workers": len(worker_list),
        "threads": {part: total("threads", part) + extra_threads for part in ("now", "peak", "recent_peak")},
        "rss_bytes": {part: total("rss_bytes", part) + extra_rss for part in ("now", "peak", "recent_peak")},
        "cpu_seconds": round(
            sum(w["cpu_seconds"] for w in worker_list) + ((master_process or {}).get("cpu_seconds") or 0), 4
        ),
        "in_flight": {part: total("in_flight", part) for part in ("now", "peak", "recent_peak")},
        "requests": sum(w["requests"] for w in worker_list),
        "gc": None
        if not collected
        else {
            "seconds": round(sum(g["seconds"] for g in collected), 6),
            "collections": [sum(g["collections"][i] for g in collected) for i in range(3)],
        },
        "loop_lag_ms": None
        if not lags
        else {
            "last": max(lag["last"] for lag in lags),
            "recent_max": max(lag["recent_max"] for lag in lags),
            "max": max(lag["max"] for lag in lags),
        },
    }


def report() -> dict[str, Any]:
    found = workers()
    supervisor = master([w["pid"] for w in found])
    total = combine(found, supervisor)
    # The whole container's, read now: the lab's share of the machine counts every process
    # in it (healthchecks, exec'd tools), not the server's alone.
    total["container_cpu_seconds"] = cpu.container_seconds()
    # When these were read, on the kernel's monotonic clock, which loadgen's container shares:
    # a poll answered late (queued behind the load) is still a reading at a known time.
    total["monotonic"] = round(time.monotonic(), 4)
    return {"total": total, "workers": found, "master": supervisor}
