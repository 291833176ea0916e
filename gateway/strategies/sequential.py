"""The article's sync aggregation: one blocking call after another, within the deadline."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..calls import Call, Outcome, not_started

if TYPE_CHECKING:
    from ..aggregation import Plan

NAME = "sequential"
MESSAGE = "Hello Sync World!"
# One call after another: the fan-out waits for the sum of the calls.
CONCURRENT = False
KIND = "sync"


def fetch(calls: list[Call], plan: Plan) -> list[Outcome]:
    end = time.perf_counter() + plan.deadline
    outcomes = []
    with plan.client.sync_session() as get:
        for index, call in enumerate(calls):
            # The call's own timeout never reaches past the deadline.
            with plan.call(index, end) as timeout:
                outcomes.append(not_started(call) if timeout is None else get(call, timeout))
    return outcomes
