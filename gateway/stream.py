"""The aggregation as a stream of server-sent events (/api/aggregated/stream/): one `call`
event per backend call as it completes, in completion order, then a `summary` event.

The same fan-out as gather (the same parameters, limits, call budget, client and deadline);
only the answer differs: a client sees each call's outcome when it is known instead of all
of them at the slowest call's end. It is an async view with an async generator, so under
WSGI Django consumes it whole through async_to_sync and it arrives all at once, at the
end (docs/streams.md). The budget is taken before the response starts (a full budget is
still a 503 JSON) and given back when the generator ends, however it ends: a client that
leaves (ASGI: CancelledError) cancels the calls still running.
"""

from __future__ import annotations

import asyncio
import time

from asynclab import streams
from asynclab.features import requires
from asynclab.query import endpoint

from .aggregation import FanOut, Plan, admit, parser, refuse
from .calls import Call, Outcome, never_ran, not_started
from .capacity import OverCapacity
from .strategies import gather

NAME = "stream"


def _call_event(seq: int, outcome: Outcome) -> bytes:
    data = {"task_id": outcome.task_id, "ok": outcome.ok, "elapsed": round(outcome.elapsed, 6), "due": time.time()}
    if outcome.ok:
        data["body"] = outcome.body
    else:
        data.update(kind=outcome.kind, detail=outcome.detail)
    return streams.event("call", seq, data)


async def events(fanout: FanOut, plan: Plan, calls: list[Call]):
    streams.GAUGE.enter()
    completed = False
    start = time.perf_counter()
    end = start + plan.deadline
    limit = asyncio.Semaphore(plan.concurrency)
    outcomes: list[Outcome] = []
    try:
        with plan:
            async with plan.client.session() as get:

                async def one(index: int, call: Call) -> Outcome:
                    async with limit:
                        with plan.call(index, end) as timeout:
                            return not_started(call) if timeout is None else await get(call, timeout)

                tasks = {asyncio.create_task(one(i, call)): call for i, call in enumerate(calls)}
                pending = set(tasks)
                try:
                    while pending:
                        done, pending = await asyncio.wait(
                            pending, timeout=max(0.0, end - time.perf_counter()), return_when=asyncio.FIRST_COMPLETED
                        )
                        if not done:  # the deadline
                            break
                        for task in done:
                            outcomes.append(task.result())
                            yield _call_event(len(outcomes) - 1, outcomes[-1])
                finally:
                    for task in pending:
                        task.cancel()
                    await asyncio.gather(*pending, return_exceptions=True)
                for task in pending:
                    outcomes.append(never_ran(tasks[task], "deadline", "cancelled at the deadline"))
                    yield _call_event(len(outcomes) - 1, outcomes[-1])
        elapsed = time.perf_counter() - start
        errors = [outcome.error() for outcome in outcomes if not outcome.ok]
        yield streams.event(
            "summary",
            len(outcomes),
            {
                "strategy": NAME,
                "target": fanout.target,
                "n": fanout.n,
                "delay": fanout.delay,
                "client": plan.client.NAME,
                "ok": len(outcomes) - len(errors),
                "failed": len(errors),
                "errors": errors,
                "fetch_elapsed": round(elapsed, 6),
            },
        )
        completed = True
    finally:
        streams.GAUGE.leave(completed)


@requires("async-streaming")
@endpoint(parser(gather))
async def aggregated_stream(request, fanout: FanOut):
    try:
        plan = admit(gather, fanout)
    except OverCapacity as refused:
        return refuse(refused)
    response = streams.response(events(fanout, plan, fanout.calls(getattr(request, "request_id", None))))
    # A generator that never starts never runs its `finally`: the budget is given back when
    # Django closes the response too (closing twice gives back nothing more).
    response._resource_closers.append(plan.__exit__)
    return response
