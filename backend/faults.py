"""Fault injection: the backend misbehaving on purpose, so the gateway's handling shows.

Each fault is a share of calls (0..1), chosen by task_id so that a fan-out of n calls
with `fail=0.1` has exactly round(n x 0.1) failures (the calls where floor(i x rate)
steps up), not "about" that many. A call picked by several faults gets the first of:
drop, hang, fail, invalid. `jitter` adds a random 0..jitter seconds to the delay. Every
knob has an environment default (BACKEND_FAIL_RATE, ...) and a bounded query parameter.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse

from asynclab.http import json_error
from asynclab.query import Query

FAULTS = ("drop", "hang", "fail", "invalid")
# Calls without a numeric task_id are numbered per process.
_counter = itertools.count()


class InjectedDrop(RuntimeError):
    """Raised mid-body on purpose: the server aborts the connection (fault `drop`)."""


@dataclass(frozen=True)
class Faults:
    rates: dict[str, float]
    jitter: float

    def pick(self, task_id: str | None) -> str | None:
        index = int(task_id) if task_id is not None and task_id.isdigit() else next(_counter)
        for fault in FAULTS:
            rate = self.rates[fault]
            if rate and math.floor((index + 1) * rate) > math.floor(index * rate):
                return fault
        return None

    def extra_delay(self) -> float:
        return random.uniform(0, self.jitter) if self.jitter else 0.0


def parse(query: Query) -> Faults:
    return Faults(
        rates={
            fault: query.number(fault, getattr(settings, f"BACKEND_{fault.upper()}_RATE"), 0, 1) for fault in FAULTS
        },
        jitter=query.number("jitter", settings.BACKEND_JITTER, 0, settings.BACKEND_MAX_DELAY),
    )


def hang_for() -> float:
    """How long a hanging call holds on: the longest delay the backend allows."""
    return settings.BACKEND_MAX_DELAY


def _dropped():
    yield b'{"message": "this body is cut'
    raise InjectedDrop("injected fault: connection dropped on purpose (drop=)")


def response(fault: str) -> HttpResponse:
    """The answer for a call picked by `fault` (hang is a wait, handled by the view)."""
    if fault == "fail":
        return json_error(503, "injected_failure", "injected fault: failing on purpose (fail=)")
    if fault == "invalid":
        return HttpResponse(b'{"message": not json', content_type="application/json")
    return StreamingHttpResponse(_dropped(), content_type="application/json")
