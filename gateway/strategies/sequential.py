"""The article's sync aggregation: one blocking call after another, within the deadline."""

import time

from ..calls import Call, Outcome

NAME = "sequential"
MESSAGE = "Hello Sync World!"
# One call after another: the fan-out waits for the sum of the calls.
CONCURRENT = False
KIND = "sync"


def fetch(calls: list[Call], plan) -> list[Outcome]:
    end = time.perf_counter() + plan.deadline
    outcomes = []
    try:
        with plan.client.sync_session() as get:
            for index, call in enumerate(calls):
                # The call's own timeout never reaches past the deadline.
                timeout = plan.begin(index, call, end)
                if isinstance(timeout, Outcome):
                    outcomes.append(timeout)
                    continue
                try:
                    outcomes.append(get(call, timeout))
                finally:
                    plan.ticket.finish()
    finally:
        plan.ticket.close()
    return outcomes
