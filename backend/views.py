"""The article's slow API view, in its sync and its async form.

Both wait `delay` seconds, the sync one blocking its thread with time.sleep and the async
one yielding its event loop with asyncio.sleep: the only difference the lab measures.
"""

import asyncio
import time
from dataclasses import dataclass

from django.conf import settings

from asynclab.http import ApiResponse
from asynclab.query import Query, endpoint

from . import faults


@dataclass(frozen=True)
class ApiParams:
    task_id: str | None
    delay: float
    faults: faults.Faults

    def fault(self) -> tuple[str | None, float]:
        """(the fault this call gets, if any; how long it waits)."""
        fault = self.faults.pick(self.task_id)
        wait = faults.hang_for() if fault == "hang" else self.delay + self.faults.extra_delay()
        return fault, wait


def parse(query: Query) -> ApiParams:
    return ApiParams(
        task_id=query.token("task_id"),
        delay=query.number("delay", settings.BACKEND_DELAY, 0, settings.BACKEND_MAX_DELAY),
        faults=faults.parse(query),
    )


def payload(message: str, params: ApiParams) -> ApiResponse:
    data = {"message": message}
    if params.task_id is not None:
        data["task_id"] = params.task_id
    return ApiResponse(data)


@endpoint(parse)
def sync_api(request, params: ApiParams):
    fault, wait = params.fault()
    time.sleep(wait)
    return faults.response(fault) if fault and fault != "hang" else payload("Hello World!", params)


@endpoint(parse)
async def async_api(request, params: ApiParams):
    fault, wait = params.fault()
    await asyncio.sleep(wait)
    return faults.response(fault) if fault and fault != "hang" else payload("Hello Async World!", params)
