"""One live line on a terminal while a measurement runs; silent otherwise."""

from __future__ import annotations

import asyncio
import sys
import time

from .tally import Tally
from .units import format_duration


class Progress:
    """Requests, req/s and p50/p99 so far, rewritten in place every second."""

    def __init__(self, label: str, enabled: bool | None = None) -> None:
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled

    async def run(self, tally: Tally) -> None:
        if not self.enabled:
            return
        begin = time.perf_counter()
        while True:
            await asyncio.sleep(1)
            elapsed = max(time.perf_counter() - max(begin, tally.started), 1e-9)
            count = tally.latency.count
            sys.stderr.write(
                f"\r{self.label}: {count} done, {tally.ok_in_window / elapsed:.1f} ok/s, "
                f"p50 {format_duration(tally.latency.percentile(50))}, "
                f"p99 {format_duration(tally.latency.percentile(99))}, "
                f"{sum(tally.errors.values())} errors   "
            )
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
