"""The aggregation views: the same fan-out, four ways to wait for it."""

import time

from asynclab.query import endpoint

from .aggregation import FanOut, admit, parser, refuse, respond
from .capacity import OverCapacity
from .strategies import Strategy, bridged, gather, sequential, threadpool


def _calls(request, fanout: FanOut):
    return fanout.calls(getattr(request, "request_id", None))


@endpoint(parser(gather))
async def async_aggregated(request, fanout: FanOut):
    try:
        plan = admit(gather, fanout)
    except OverCapacity as refused:
        return refuse(refused)
    start = time.perf_counter()
    with plan:
        outcomes = await gather.fetch(_calls(request, fanout), plan)
    return respond(gather, fanout, plan, outcomes, time.perf_counter() - start)


def _blocking(strategy: Strategy, request, fanout: FanOut):
    """What every sync view does: admit, fan out with `strategy`, answer."""
    try:
        plan = admit(strategy, fanout)
    except OverCapacity as refused:
        return refuse(refused)
    start = time.perf_counter()
    with plan:
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
