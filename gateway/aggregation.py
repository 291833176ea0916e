"""What a client asks the gateway for (a fan-out) and the answer built from its outcomes.

Status policy: every call ok -> 200; some failed -> 200 with the failures in `errors`
(a partial result is still a result); every call failed -> 502, the backend is unusable.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from django.conf import settings

from asynclab import requestid
from asynclab.http import ApiResponse
from asynclab.query import Query

from .calls import Call, Outcome

# target= picks which backend view every call hits; the base URL is never the client's.
TARGETS = {"sync": "/api/", "async": "/api/async/"}


@dataclass(frozen=True)
class FanOut:
    n: int
    target: str
    delay: float | None
    timeout: float

    def calls(self, request_id: str | None = None) -> list[Call]:
        url = settings.BACKEND_URL + TARGETS[self.target]
        extra = {} if self.delay is None else {"delay": f"{self.delay:g}"}
        return [Call(task_id, url, {"task_id": str(task_id), **extra},
                     request_id=requestid.call_id(request_id, task_id) if request_id else None)
                for task_id in range(self.n)]


def parse(query: Query) -> FanOut:
    return FanOut(
        n=query.integer("n", 10, 1, settings.GATEWAY_MAX_FANOUT),
        target=query.choice("target", "sync", tuple(TARGETS)),
        # Unset: the backend's own default (BACKEND_DELAY) applies.
        delay=query.number("delay", None, 0, settings.BACKEND_MAX_DELAY),
        timeout=query.number("timeout", settings.GATEWAY_TIMEOUT, 0.01, settings.GATEWAY_MAX_TIMEOUT),
    )


def respond(strategy: ModuleType, fanout: FanOut, outcomes: list[Outcome], elapsed: float) -> ApiResponse:
    errors = [outcome.error() for outcome in outcomes if not outcome.ok]
    data = {
        "message": strategy.MESSAGE,
        "strategy": strategy.NAME,
        "target": fanout.target,
        "n": fanout.n,
        "delay": fanout.delay,
        "timeout": fanout.timeout,
        "responses": [outcome.body for outcome in outcomes if outcome.ok],
        "errors": errors,
        "fetch_elapsed": round(elapsed, 6),
        "debug_message": f"fetch executed in {elapsed:0.2f} seconds.",
    }
    response = ApiResponse(data, status=502 if len(errors) == len(outcomes) else 200)
    # A load generator can count partial results from this header without parsing bodies.
    response["X-Aggregation-Errors"] = str(len(errors))
    slowest = max(outcomes, key=lambda outcome: outcome.elapsed)
    response.timings = {"fanout": elapsed, "call": slowest.elapsed, "backend": critical_path(strategy, outcomes)}
    response.log_fields = {"calls": {"strategy": strategy.NAME, "n": len(outcomes), "ok": len(outcomes) - len(errors),
                                     "failed": len(errors), "slowest_ms": round(slowest.elapsed * 1000, 3),
                                     "slowest_task": slowest.task_id}}
    return response


def critical_path(strategy: ModuleType, outcomes: list[Outcome]) -> float:
    """Backend handler time the fan-out had to wait for: the slowest call's when the calls
    overlap, every call's when they run one after another. A call with no answer adds none."""
    if strategy.CONCURRENT:
        return max(outcomes, key=lambda outcome: outcome.elapsed).handler or 0.0
    return sum(outcome.handler or 0.0 for outcome in outcomes)
