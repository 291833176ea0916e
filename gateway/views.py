"""The three aggregation views: same fan-out, three ways to wait for it."""

import time

from asynclab.query import endpoint

from .aggregation import FanOut, parse, respond
from .strategies import gather, sequential, threadpool


@endpoint(parse)
async def async_aggregated(request, fanout: FanOut):
    start = time.perf_counter()
    outcomes = await gather.fetch(fanout.calls(getattr(request, "request_id", None)), fanout.timeout)
    return respond(gather, fanout, outcomes, time.perf_counter() - start)


@endpoint(parse)
def sync_aggregated(request, fanout: FanOut):
    start = time.perf_counter()
    outcomes = sequential.fetch(fanout.calls(getattr(request, "request_id", None)), fanout.timeout)
    return respond(sequential, fanout, outcomes, time.perf_counter() - start)


@endpoint(parse)
def threadpool_aggregated(request, fanout: FanOut):
    start = time.perf_counter()
    outcomes = threadpool.fetch(fanout.calls(getattr(request, "request_id", None)), fanout.timeout)
    return respond(threadpool, fanout, outcomes, time.perf_counter() - start)
