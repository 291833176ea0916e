"""The article's sync aggregation: one blocking call after another, within the deadline."""

import time

from ..calls import Call, Outcome, never_ran

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
                remaining = end - time.perf_counter()
                if remaining <= 0 or not plan.ticket.start(index):
                    outcomes.append(never_ran(call, "deadline", "not started: past the deadline"))
                    continue
                try:
                    # The call's own timeout never reaches past the deadline.
                    outcomes.append(get(call, min(plan.timeout, remaining)))
                finally:
                    plan.ticket.finish()
    finally:
        plan.ticket.close()
    return outcomes
