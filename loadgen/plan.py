"""What to measure (`Plan`) and one process's part of it (`Share`)."""

from __future__ import annotations

from dataclasses import dataclass

# Several processes share a plan through one start: each opens its session, then waits at a
# barrier (this long at most, for a fresh interpreter on a busy machine) for the others.
READY_TIMEOUT = 120.0
# From the barrier to the start: long enough for every process to read the start time.
START_MARGIN = 0.05


@dataclass(frozen=True)
class Plan:
    urls: tuple[str, ...]
    concurrency: int = 10
    rate: float | None = None  # requests/s: open loop when set
    duration: float | None = 10.0  # seconds of measurement (time-boxed)
    requests: int | None = None  # or a number of measured requests
    warmup: float = 0.0  # seconds, or requests when warmup_requests
    warmup_requests: bool = False
    timeout: float = 60.0
    max_inflight: int = 10_000  # open loop: bound on requests in flight
    # Closed loop: the window stretches to 3x the warm-up's latency, up to this (default
    # 6x duration), so a slow cell is not measured over a fraction of one request.
    max_duration: float | None = None
    timeline: bool = False  # keep every request's outcome over time (figures["timeline"])
    # Resend a GET once when its kept-alive connection drops before the answer (aiohttp's way,
    # as RFC 9112 allows): off where a request cut by a fault (a worker killed) must count as
    # the error a client without that retry sees, not as a slower success.
    retry: bool = True
    workers: int = 1  # loadgen processes sharing the load; 1 runs in this process

    @property
    def mode(self) -> str:
        return "open" if self.rate else "closed"


@dataclass(frozen=True)
class Share:
    """The part of a plan one of `of` processes runs: every `of`-th closed-loop worker,
    counted request and open-loop send slot from `index`. Interleaved rather than in
    blocks, so the processes together keep one process's ramp-up and send schedule."""

    index: int = 0
    of: int = 1

    def indices(self, total: int) -> range:
        return range(self.index, total, self.of)

    def part(self, total: int) -> int:
        return len(self.indices(total))

    def requests(self, count: int, concurrency: int) -> int:
        """This share of `count` requests dealt in turn to `concurrency` workers: in
        proportion to its workers, so every process's window ends at about the same time."""
        return sum(len(range(worker, count, concurrency)) for worker in self.indices(concurrency))


def processes_for(plan: Plan, available: int | None = None) -> int:
    """How many processes get a share: no more than asked (or available), nor than there
    are closed-loop workers or counted requests to share out."""
    count = plan.workers if available is None else available
    if not plan.rate:
        count = min(count, plan.concurrency, plan.requests or count)
    return max(1, count)
