"""The aggregation views: the same fan-out, four ways to wait for it."""

import time

from asynclab.query import endpoint

from .aggregation import FanOut, Plan, admit, parser, respond
from .strategies import bridged, gather, sequential, threadpool


def _calls(request, fanout: FanOut):
    return fanout.calls(getattr(request, "request_id", None))


@endpoint(parser(gather))
async def async_aggregated(request, fanout: FanOut):
    plan = admit(gather, fanout)
    if not isinstance(plan, Plan):
        return plan  # refused: over capacity
    start = time.perf_counter()
    outcomes = await gather.fetch(_calls(request, fanout), plan)
    return respond(gather, fanout, plan, outcomes, time.perf_counter() - start)


def _blocking(strategy, request, fanout: FanOut):
    """What every sync view does: admit, fan out with `strategy`, answer."""
    plan = admit(strategy, fanout)
    if not isinstance(plan, Plan):
        return plan  # refused: over capacity
    start = time.perf_counter()
    outcomes = strategy.fetch(_calls(request, fanout), plan)
    return respond(strategy, fanout, plan, outcomes, time.perf_counter() - start)


@endpoint(parser(sequential))
def sync_aggregated(request, fanout: FanOut):
    return _blocking(sequential, request, fanout)


@endpoint(parser(threadpool))
def threadpool_aggregated(request, fanout: FanOut):
    return _blocking(threadpool, request, fanout)


@endpoint(parser(bridged))
def async_to_sync_aggregated(request, fanout: FanOut):
    return _blocking(bridged, request, fanout)
