"""The gateway's budget of backend calls in flight, process-wide (GATEWAY_MAX_CALLS).

An aggregation reserves all its calls up front or is refused at once (OverCapacity, which
the views answer with 503 and Retry-After): over capacity the gateway says so instead of
queueing without bound. A call gives its slot back when it really ends, so calls
abandoned by a thread pool at the deadline keep counting until their threads are done:
they cannot pile up unseen.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class OverCapacity(Exception):
    """A fan-out of `needed` calls did not fit: `in_use` of `limit` slots were taken."""

    def __init__(self, needed: int, in_use: int, limit: int) -> None:
        super().__init__(f"{in_use} of {limit} backend calls in flight; this aggregation needs {needed}")
        self.needed, self.in_use, self.limit = needed, in_use, limit


class Capacity:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_use = 0
        self._lock = threading.Lock()

    def reserve(self, count: int) -> Ticket:
        """All `count` slots, or OverCapacity with nothing taken."""
        with self._lock:
            if self.in_use + count > self.limit:
                raise OverCapacity(count, self.in_use, self.limit)
            self.in_use += count
        return Ticket(self, count)

    def _release(self, count: int) -> None:
        with self._lock:
            self.in_use -= count


class Ticket:
    """One aggregation's reserved calls: each is released exactly once, by the call when it
    ran (finish), or by close() when it never started (skipped, cancelled, abandoned in a
    queue).

    As a context manager, the fan-out's reservation: its end gives back every call that
    never started; slot() holds one call's slot for a block.
    """

    def __init__(self, capacity: Capacity, count: int) -> None:
        self._capacity = capacity
        self._waiting = set(range(count))
        self._lock = threading.Lock()

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    @contextmanager
    def slot(self, index: int) -> Iterator[bool]:
        """Claim call `index` for the block: yields whether it may run (False once close() has
        given its slot back); a claimed slot is given back when the block ends."""
        claimed = self.start(index)
        try:
            yield claimed
        finally:
            if claimed:
                self.finish()

    def start(self, index: int) -> bool:
        """Claim call `index` for running; False once close() has given its slot back."""
        with self._lock:
            if index not in self._waiting:
                return False
            self._waiting.discard(index)
            return True

    def finish(self) -> None:
        self._capacity._release(1)

    def close(self) -> None:
        with self._lock:
            count = len(self._waiting)
            self._waiting.clear()
        if count:
            self._capacity._release(count)
