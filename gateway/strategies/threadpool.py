"""The article's Part III answer: blocking calls on a ThreadPoolExecutor, within a deadline.

At the deadline the calls still queued are cancelled and the running ones abandoned: the
response does not wait for them. Each was started with a timeout that ends by the
deadline, and each keeps its slot in the gateway's call budget until it does.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

from django.conf import settings

from ..calls import Call, Outcome, never_ran, not_started

if TYPE_CHECKING:
    from ..aggregation import Plan

NAME = "threadpool"
MESSAGE = "Hello Threadpool World!"
CONCURRENT = True
KIND = "sync"


def fetch(calls: list[Call], plan: Plan) -> list[Outcome]:
    end = time.perf_counter() + plan.deadline
    workers = min(settings.GATEWAY_POOL_SIZE, plan.concurrency)
    # A pool per request, as in the article: its threads end with their calls.
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fanout")
    try:
        with plan.client.sync_session() as get:

            def one(index: int, call: Call) -> Outcome:
                with plan.call(index, end) as timeout:
                    return not_started(call) if timeout is None else get(call, timeout)

            futures = [pool.submit(one, index, call) for index, call in enumerate(calls)]
            done, _ = wait(futures, timeout=max(0.0, end - time.perf_counter()))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return [
        future.result() if future in done else never_ran(call, "deadline", "abandoned at the deadline")
        for future, call in zip(futures, calls)
    ]
