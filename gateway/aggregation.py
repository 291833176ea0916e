"""What a client asks the gateway for (a fan-out) and the answer built from its outcomes.

Status policy: every call ok -> 200; some failed (timeout, connect, transport, status,
invalid_body, deadline) -> 200 with each failure in `errors` (a partial result is still a
result); every call failed -> 502, the backend is unusable; the gateway's call budget
full -> 503 with Retry-After, at once. Bad input -> 400 naming the parameter.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from asynclab import requestid
from asynclab.api import CLIENT_CHOICES, TARGETS
from asynclab.grammar import written
from asynclab.http import ApiResponse, json_error
from asynclab.query import BadParameter, Query

from . import clients
from .calls import Call, Outcome
from .capacity import Capacity, OverCapacity, Ticket
from .clients import Client
from .strategies import Strategy

# The process's budget of backend calls in flight, and what a refused client is told.
CALLS = Capacity(settings.GATEWAY_MAX_CALLS)
RETRY_AFTER = 1
# Fault injection the gateway passes on to the backend, with each one's upper bound.
FAULTS = (
    ("fail", lambda: 1),
    ("hang", lambda: 1),
    ("invalid", lambda: 1),
    ("drop", lambda: 1),
    ("jitter", lambda: settings.BACKEND_MAX_DELAY),
)


@dataclass(frozen=True)
class FanOut:
    n: int
    # A name in asynclab/api.py's TARGETS: the backend view every call hits, and any query it
    # always gets. The base URL is never the client's (no SSRF).
    target: str
    delay: float | None
    timeout: float  # per call
    deadline: float  # for the whole fan-out
    concurrency: int  # calls of this aggregation in flight at once
    client: str  # as asked: a name in CLIENT_CHOICES
    faults: tuple[tuple[str, float], ...] = ()  # passed on to every call (backend/faults.py)

    def calls(self, request_id: str | None = None) -> list[Call]:
        path, fixed = TARGETS[self.target]
        url = settings.BACKEND_URL + path
        extra = dict(fixed)
        if self.delay is not None:
            extra["delay"] = written(self.delay)
        extra.update((name, written(value)) for name, value in self.faults)
        return [
            Call(
                task_id,
                url,
                {"task_id": str(task_id), **extra},
                request_id=requestid.call_id(request_id, task_id) if request_id else None,
            )
            for task_id in range(self.n)
        ]


@dataclass(frozen=True)
class Plan:
    """How a strategy runs one admitted fan-out, and the fan-out's calls in the budget.

    The view holds it as a context manager (`with admit(...) as plan:`): at the end, the
    calls that never started give their slots back. A strategy runs each call inside
    `with plan.call(index, end) as timeout:`.
    """

    timeout: float
    deadline: float
    concurrency: int
    client: Client
    _ticket: Ticket

    def __enter__(self) -> Plan:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._ticket.close()

    @contextmanager
    def call(self, index: int, end: float) -> Iterator[float | None]:
        """Call `index`'s slot for the block: yields its timeout, which ends by the deadline
        `end`, or None when the call must not start (past the deadline, or given back at
        the plan's end). The slot is given back when the block ends."""
        with self._ticket.slot(index) as claimed:
            remaining = end - time.perf_counter()
            yield min(self.timeout, remaining) if claimed and remaining > 0 else None


def parser(strategy: Strategy):
    """The query parser of `strategy`'s view: every knob bounded, the client fit for the view."""

    def parse(query: Query) -> FanOut:
        n = query.integer("n", 10, 1, settings.GATEWAY_MAX_FANOUT)
        client = query.choice("client", settings.GATEWAY_CLIENT, CLIENT_CHOICES)
        if strategy.KIND == "sync" and not clients.pick(client, "sync").SYNC:
            raise BadParameter("client", f"{client} has no blocking form: use it with the gather strategy")
        return FanOut(
            n=n,
            target=query.choice("target", "sync", tuple(TARGETS)),
            # Unset: the backend's own default (BACKEND_DELAY) applies.
            delay=query.number("delay", None, 0, settings.BACKEND_MAX_DELAY),
            timeout=query.number("timeout", settings.GATEWAY_TIMEOUT, 0.01, settings.GATEWAY_MAX_TIMEOUT),
            deadline=query.number("deadline", settings.GATEWAY_DEADLINE, 0.01, settings.GATEWAY_MAX_DEADLINE),
            concurrency=query.integer("concurrency", n, 1, n),
            client=client,
            faults=tuple(
                (name, value) for name, high in FAULTS if (value := query.number(name, None, 0, high())) is not None
            ),
        )

    return parse


def admit(strategy: Strategy, fanout: FanOut) -> Plan:
    """Reserve the fan-out's calls in the gateway's budget, or raise OverCapacity at once."""
    return Plan(
        timeout=fanout.timeout,
        deadline=fanout.deadline,
        concurrency=fanout.concurrency,
        client=clients.pick(fanout.client, strategy.KIND),
        _ticket=CALLS.reserve(fanout.n),
    )


def refuse(refused: OverCapacity) -> ApiResponse:
    """The answer to a fan-out that did not fit in the budget: 503, retry after a while."""
    response = json_error(503, "over_capacity", f"{refused}: retry later", retry_after=RETRY_AFTER)
    response["Retry-After"] = str(RETRY_AFTER)
    return response


def respond(strategy: Strategy, fanout: FanOut, plan: Plan, outcomes: list[Outcome], elapsed: float) -> ApiResponse:
    errors = [outcome.error() for outcome in outcomes if not outcome.ok]
    data = {
        "message": strategy.MESSAGE,
        "strategy": strategy.NAME,
        "target": fanout.target,
        "n": fanout.n,
        "delay": fanout.delay,
        "timeout": fanout.timeout,
        "deadline": fanout.deadline,
        "concurrency": fanout.concurrency,
        "client": plan.client.NAME,
        "faults": dict(fanout.faults),
        "responses": [outcome.body for outcome in outcomes if outcome.ok],
        "errors": errors,
        "fetch_elapsed": round(elapsed, 6),
        "debug_message": f"fetch executed in {elapsed:0.2f} seconds.",
    }
    response = ApiResponse(data, status=502 if len(errors) == len(outcomes) else 200)
    # A load generator can count partial results, and the failed calls by kind, from these
    # headers without parsing bodies: "timeout=3,connect=1".
    response["X-Aggregation-Errors"] = str(len(errors))
    if errors:
        kinds = Counter(error["kind"] for error in errors)
        response["X-Aggregation-Failures"] = ",".join(f"{kind}={count}" for kind, count in sorted(kinds.items()))
    slowest = max(outcomes, key=lambda outcome: outcome.elapsed)
    response.timings = {"fanout": elapsed, "call": slowest.elapsed, "backend": critical_path(strategy, outcomes)}
    response.log_fields = {
        "calls": {
            "strategy": strategy.NAME,
            "client": plan.client.NAME,
            "n": len(outcomes),
            "ok": len(outcomes) - len(errors),
            "failed": len(errors),
            "slowest_ms": round(slowest.elapsed * 1000, 3),
            "slowest_task": slowest.task_id,
        }
    }
    return response


def critical_path(strategy: Strategy, outcomes: list[Outcome]) -> float:
    """Backend handler time the fan-out had to wait for: the slowest call's when the calls
    overlap, every call's when they run one after another. A call with no answer adds none."""
    if strategy.CONCURRENT:
        return max(outcomes, key=lambda outcome: outcome.elapsed).handler or 0.0
    return sum(outcome.handler or 0.0 for outcome in outcomes)
