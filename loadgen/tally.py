"""What one measured phase produced (`Tally`), and the picklable form a process sends back
(`snapshot`) that `merge` adds into one tally, histograms exactly.

What counts as what:
- a success is a 2xx answer: only successes make throughput and the latency histogram;
- every other answer is an error counted by its status ("500", "502", "503"), and every
  transport failure by its kind ("timeout", "connect", "disconnect", ...);
- a request that timed out is not dropped from the latency either: it goes into the
  histogram at the time it was given up on, a censored value that is a lower bound, so a
  cell where a third of the requests timed out never shows a p50 of the survivors alone;
- a 2xx aggregation with some failed calls is a success, and counted apart as partial,
  with its failed calls by kind (the gateway's X-Aggregation-Failures header).
"""

from __future__ import annotations

import heapq
import itertools
import secrets
from collections import Counter
from dataclasses import dataclass, field

from asynclab import timing

from . import machine
from .breakdown import Breakdown
from .stats import Recorder, corrected

# How many of the slowest requests' ids a result keeps, to look up in the services' logs.
SLOWEST = 5
# The recorders a snapshot carries in HdrHistogram's encoding.
RECORDERS = ("latency", "uncorrected", "lag")


def success(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def failed_calls(header: str | None) -> Counter:
    """The gateway's X-Aggregation-Failures ("timeout=3,connect=1") as counts by kind;
    anything malformed counts nothing rather than failing the run."""
    found: Counter = Counter()
    for part in (header or "").split(","):
        kind, sep, count = part.strip().partition("=")
        if sep and kind and count.isdigit():
            found[kind] += int(count)
    return found


@dataclass
class Tally:
    latency: Recorder = field(default_factory=Recorder)
    uncorrected: Recorder = field(default_factory=Recorder)
    statuses: Counter = field(default_factory=Counter)  # every answer's status, 2xx included
    errors: Counter = field(default_factory=Counter)  # non-2xx statuses and transport failures
    censored: int = 0  # timed-out requests in the histogram as lower bounds
    censored_floor: float = float("inf")  # the smallest of them: percentiles from here up are "at least"
    partial: int = 0
    calls_failed: Counter = field(default_factory=Counter)
    sent: int = 0
    ok_in_window: int = 0
    started: float = 0.0  # the measurement window: [started, window_end]
    window_end: float = float("inf")
    last_done: float = 0.0
    # Requests sent before `measure_from` are warm-up: not in the figures, but their
    # completions inside the window still count toward throughput (steady state).
    measure_from: float = float("-inf")
    warm: Recorder = field(default_factory=Recorder)
    warm_done: int = 0
    breakdown: Breakdown = field(default_factory=Breakdown)
    slowest: list = field(default_factory=list)  # min-heap of (latency, request id, status)
    # Every request carries an id "lg-<run>-<n>" that the services log.
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))
    # When kept: (intended send, latency, outcome) of every measured request, for experiments
    # that need the run over time (faults); outcome is "ok", "partial", an HTTP status or an error.
    timeline: list | None = None
    # Read as the window opened and closed: the machine's CPU times, and this process's CPU.
    cpu_start: machine.CpuTimes | None = None
    cpu_end: machine.CpuTimes | None = None
    own_cpu_start: float | None = None
    own_cpu_end: float | None = None
    # And its container's (cgroup) CPU: every process in it, worker processes included.
    container_cpu_start: float | None = None
    container_cpu_end: float | None = None
    lag: Recorder = field(default_factory=Recorder)  # this event loop's lateness over the window
    _ids: itertools.count = field(default_factory=itertools.count)

    def next_id(self) -> str:
        return f"lg-{self.run_id}-{next(self._ids)}"

    def add(
        self,
        intended: float,
        sent: float,
        done: float,
        status: int | None,
        error: str | None,
        partial: bool,
        request_id: str = "",
        server_timing: str | None = None,
        failures: str | None = None,
    ) -> None:
        ok = error is None and success(status)
        if ok and self.started <= done <= self.window_end:
            self.ok_in_window += 1
        if intended < self.measure_from:
            self.warm_done += 1
            if not error:
                self.warm.record(done - sent)
            return
        latency, raw = corrected(intended, sent, done)
        entry = (latency, request_id, error or status)
        if len(self.slowest) < SLOWEST:
            heapq.heappush(self.slowest, entry)
        elif latency > self.slowest[0][0]:
            heapq.heapreplace(self.slowest, entry)
        if self.timeline is not None:
            outcome = error or (("partial" if partial else "ok") if ok else str(status))
            self.timeline.append((intended, latency, outcome))
        if error:
            self.errors[error] += 1
            if error == "timeout":
                self.latency.record(latency)
                self.uncorrected.record(raw)
                self.censored += 1
                self.censored_floor = min(self.censored_floor, latency)
            return
        self.statuses[str(status)] += 1
        self.calls_failed.update(failed_calls(failures))
        if not ok:
            self.errors[str(status)] += 1
            return
        if server_timing:
            # Server time against the time on the wire, so the uncorrected latency.
            self.breakdown.add(raw, timing.parse(server_timing))
        self.latency.record(latency)
        self.uncorrected.record(raw)
        self.partial += partial
        self.last_done = max(self.last_done, done)

    @property
    def own_cpu(self) -> float | None:
        """This process's CPU seconds over the window."""
        if self.own_cpu_start is None or self.own_cpu_end is None:
            return None
        return self.own_cpu_end - self.own_cpu_start

    @property
    def container_cpu(self) -> float | None:
        """Loadgen's container's CPU seconds over the window (None outside a readable cgroup)."""
        if self.container_cpu_start is None or self.container_cpu_end is None:
            return None
        return self.container_cpu_end - self.container_cpu_start


def snapshot(tally: Tally, cpu: float, wall: float) -> dict:
    """What a process sends back: its tally in picklable form, with its CPU and wall time."""
    return {
        **{name: getattr(tally, name).encode() for name in RECORDERS},
        "statuses": dict(tally.statuses),
        "errors": dict(tally.errors),
        "censored": tally.censored,
        "censored_floor": tally.censored_floor if tally.censored else None,
        "partial": tally.partial,
        "calls_failed": dict(tally.calls_failed),
        "sent": tally.sent,
        "ok_in_window": tally.ok_in_window,
        "started": tally.started,
        "window_end": tally.window_end,
        "last_done": tally.last_done,
        "warm_done": tally.warm_done,
        "breakdown": {"count": tally.breakdown.count, "latency": tally.breakdown.latency, "sums": tally.breakdown.sums},
        "slowest": list(tally.slowest),
        "timeline": tally.timeline,
        "cpu_start": tuple(tally.cpu_start) if tally.cpu_start else None,
        "cpu_end": tuple(tally.cpu_end) if tally.cpu_end else None,
        "window_cpu": tally.own_cpu,
        "container_cpu": tally.container_cpu,
        "cpu": cpu,
        "wall": wall,
    }


def merge(parts: list[dict]) -> Tally:
    """One tally of several processes' snapshots: histograms added, counts summed, the
    window spanning all of theirs, the slowest requests of them all."""
    tally = Tally()
    for part in parts:
        for name in RECORDERS:
            getattr(tally, name).add(Recorder.decode(part[name]))
        tally.statuses.update(part["statuses"])
        tally.errors.update(part["errors"])
        tally.censored += part["censored"]
        if part["censored_floor"] is not None:
            tally.censored_floor = min(tally.censored_floor, part["censored_floor"])
        tally.partial += part["partial"]
        tally.calls_failed.update(part["calls_failed"])
        tally.sent += part["sent"]
        tally.ok_in_window += part["ok_in_window"]
        tally.last_done = max(tally.last_done, part["last_done"])
        tally.warm_done += part["warm_done"]
        # Sums and counts, so the merged means are the parts' weighted by their requests.
        tally.breakdown.count += part["breakdown"]["count"]
        tally.breakdown.latency += part["breakdown"]["latency"]
        for name, value in part["breakdown"]["sums"].items():
            tally.breakdown.sums[name] += value
        if part["timeline"] is not None:
            tally.timeline = (tally.timeline or []) + part["timeline"]
    tally.slowest = heapq.nlargest(SLOWEST, (entry for part in parts for entry in part["slowest"]))
    first = min(parts, key=lambda part: part["started"])
    last = max(parts, key=lambda part: part["window_end"])
    tally.started, tally.window_end = first["started"], last["window_end"]
    # /proc/stat is the machine's, whichever process read it: the earliest opening and the
    # latest closing reading span every process's window. Replicas on other nodes read
    # other machines: only the first one's node's readings are put together.
    node = first.get("node")
    here = [part for part in parts if part.get("node") == node]
    opening = min(here, key=lambda part: part["started"])
    closing = max(here, key=lambda part: part["window_end"])
    tally.cpu_start = machine.CpuTimes(*opening["cpu_start"]) if opening["cpu_start"] else None
    tally.cpu_end = machine.CpuTimes(*closing["cpu_end"]) if closing["cpu_end"] else None
    return tally
