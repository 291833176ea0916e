"""The article's async aggregation: the calls run as tasks, waited for with a deadline.

At the deadline the calls still running are cancelled, so nothing outlives the request.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from ..calls import Call, Outcome, never_ran, not_started

if TYPE_CHECKING:
    from ..aggregation import Plan

NAME = "gather"
MESSAGE = "Hello Async World!"
# The calls overlap: the fan-out waits about as long as its slowest call.
CONCURRENT = True
KIND = "async"


async def fetch(calls: list[Call], plan: Plan) -> list[Outcome]:
    end = time.perf_counter() + plan.deadline
    limit = asyncio.Semaphore(plan.concurrency)
    async with plan.client.session() as get:

        async def one(index: int, call: Call) -> Outcome:
            async with limit:
                with plan.call(index, end) as timeout:
                    return not_started(call) if timeout is None else await get(call, timeout)

        tasks = [asyncio.create_task(one(i, call)) for i, call in enumerate(calls)]
        try:
            done, pending = await asyncio.wait(tasks, timeout=max(0.0, end - time.perf_counter()))
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return [
        task.result()
        if task in done and not task.cancelled()
        else never_ran(call, "deadline", "cancelled at the deadline")
        for task, call in zip(tasks, calls)
    ]
