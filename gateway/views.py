"""The aggregation views: the same fan-out, four ways to wait for it."""

import time

from asynclab.query import endpoint

from .aggregation import FanOut, Plan, admit, parser, respond
from .strategies import bridged, gather, sequential, threadpool


@endpoint(parser(gather))
async def async_aggregated(request, fanout: FanOut):
    plan = admit(gather, fanout)
    if not isinstance(plan, Plan):
        return plan  # refused: over capacity
    start = time.perf_counter()
    outcomes = await gather.fetch(fanout.calls(getattr(request, "request_id", None)), plan)
    return respond(gather, fanout, plan, outcomes, time.perf_counter() - start)


@endpoint(parser(sequential))
def sync_aggregated(request, fanout: FanOut):
    plan = admit(sequential, fanout)
    if not isinstance(plan, Plan):
        return plan
    start = time.perf_counter()
    outcomes = sequential.fetch(fanout.calls(getattr(request, "request_id", None)), plan)
    return respond(sequential, fanout, plan, outcomes, time.perf_counter() - start)


@endpoint(parser(threadpool))
def threadpool_aggregated(request, fanout: FanOut):
    plan = admit(threadpool, fanout)
    if not isinstance(plan, Plan):
        return plan
    start = time.perf_counter()
    outcomes = threadpool.fetch(fanout.calls(getattr(request, "request_id", None)), plan)
    return respond(threadpool, fanout, plan, outcomes, time.perf_counter() - start)


@endpoint(parser(bridged))
def async_to_sync_aggregated(request, fanout: FanOut):
    plan = admit(bridged, fanout)
    if not isinstance(plan, Plan):
        return plan
    start = time.perf_counter()
    outcomes = bridged.fetch(fanout.calls(getattr(request, "request_id", None)), plan)
    return respond(bridged, fanout, plan, outcomes, time.perf_counter() - start)
