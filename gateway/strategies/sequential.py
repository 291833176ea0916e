"""The article's sync aggregation: one blocking httpx.get after another."""

from ..calls import Call, Outcome, get

NAME = "sequential"
MESSAGE = "Hello Sync World!"
# One call after another: the fan-out waits for the sum of the calls.
CONCURRENT = False


def fetch(calls: list[Call], timeout: float) -> list[Outcome]:
    return [get(call, timeout) for call in calls]
