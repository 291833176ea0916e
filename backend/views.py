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


@dataclass(frozen=True)
class ApiParams:
    task_id: str | None
    delay: float


def parse(query: Query) -> ApiParams:
    return ApiParams(
        task_id=query.token("task_id"),
        delay=query.number("delay", settings.BACKEND_DELAY, 0, settings.BACKEND_MAX_DELAY),
    )


def payload(message: str, params: ApiParams) -> ApiResponse:
    data = {"message": message}
    if params.task_id is not None:
        data["task_id"] = params.task_id
    return ApiResponse(data)


@endpoint(parse)
def sync_api(request, params: ApiParams):
    time.sleep(params.delay)
    return payload("Hello World!", params)


@endpoint(parse)
async def async_api(request, params: ApiParams):
    await asyncio.sleep(params.delay)
    return payload("Hello Async World!", params)
