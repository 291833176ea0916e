"""Server-sent event streams: `events` ticks `interval` seconds apart, from an async
generator (/api/stream/) or a sync one (/api/stream/sync/), each view in the same kind as
its generator.

Tick i is due `i x interval` after the stream opens (tick 0 at once) and carries its
sequence number, when it was due and when it was written; an `end` event follows the last.

Django serves a stream whose iterator does not match the handler by consuming it whole
first: under ASGI a sync generator is read to the end by `sync_to_async(list)`, under WSGI
an async one by `async_to_sync`. The client then gets every event at once, at the end; the
lab serves both anyway, since that is one of the things it shows (docs/streams.md).
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass

from asynclab import streams
from asynclab.features import requires
from asynclab.grammar import written
from asynclab.knobs import read
from asynclab.query import BadParameter, Query, endpoint

# One stream's length, events x interval, at most this (seconds): the longest a client can
# hold a thread (WSGI) or a task (ASGI) with one request.
MAX_SECONDS = read("STREAM_MAX_SECONDS")
MAX_EVENTS = 100_000
MAX_INTERVAL = 60.0
PID = os.getpid()


@dataclass(frozen=True)
class Schedule:
    events: int
    interval: float

    def due(self, opened: float, seq: int) -> float:
        return opened + seq * self.interval


def parse(query: Query) -> Schedule:
    events = query.integer("events", 10, 1, MAX_EVENTS)
    interval = query.number("interval", 1.0, 0, MAX_INTERVAL)
    if events * interval > MAX_SECONDS:
        raise BadParameter(
            "events",
            f"events x interval is {written(round(events * interval, 6))} s; at most {written(MAX_SECONDS)} s "
            "(STREAM_MAX_SECONDS)",
        )
    return Schedule(events, interval)


def _tick(view: str, schedule: Schedule, seq: int, due: float) -> bytes:
    return streams.event(
        "tick", seq, {"view": view, "due": due, "events": schedule.events, "interval": schedule.interval, "pid": PID}
    )


async def ticks(schedule: Schedule):
    streams.GAUGE.enter()
    completed = False
    try:
        opened, start = time.time(), time.perf_counter()
        for seq in range(schedule.events):
            # Sleep to the schedule, not by the interval: a late tick does not push the rest.
            # Again while early: uvloop's timers are whole milliseconds and may wake early.
            while (wait := start + seq * schedule.interval - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            yield _tick("async", schedule, seq, schedule.due(opened, seq))
        yield streams.event("end", schedule.events, {"view": "async", "events": schedule.events})
        completed = True
    finally:
        # CancelledError (ASGI: the client left) or GeneratorExit end it here as well.
        streams.GAUGE.leave(completed)


def ticks_sync(schedule: Schedule):
    streams.GAUGE.enter()
    completed = False
    try:
        opened, start = time.time(), time.perf_counter()
        for seq in range(schedule.events):
            while (wait := start + seq * schedule.interval - time.perf_counter()) > 0:
                time.sleep(wait)
            yield _tick("sync", schedule, seq, schedule.due(opened, seq))
        yield streams.event("end", schedule.events, {"view": "sync", "events": schedule.events})
        completed = True
    finally:
        # GeneratorExit: the server closed the response because a write to the client failed.
        streams.GAUGE.leave(completed)


@requires("async-streaming")
@endpoint(parse)
async def async_stream(request, schedule: Schedule):
    return streams.response(ticks(schedule))


@endpoint(parse)
def sync_stream(request, schedule: Schedule):
    return streams.response(ticks_sync(schedule))
