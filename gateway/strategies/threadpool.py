"""The article's Part III answer: blocking httpx.get calls on a ThreadPoolExecutor."""

from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

from ..calls import Call, Outcome, get

NAME = "threadpool"
MESSAGE = "Hello Threadpool World!"
CONCURRENT = True


def fetch(calls: list[Call], timeout: float) -> list[Outcome]:
    # A pool per request, as in the article: its threads end with the request.
    with ThreadPoolExecutor(max_workers=settings.GATEWAY_POOL_SIZE, thread_name_prefix="fanout") as pool:
        return list(pool.map(lambda call: get(call, timeout), calls))
