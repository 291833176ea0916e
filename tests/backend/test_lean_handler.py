"""When LEAN's handler closes a response on the event loop, and when it hops as Django does
(pure decisions on real Django objects; the live behaviour is in tests/asynclab/test_lean.py)."""

import asyncio

from asgiref.sync import sync_to_async
from django.core import signals
from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory

from asynclab.handler import LeanASGIHandler, RequestContext, closes_on_loop, loop_safe


def decide(response, before=None) -> bool:
    async def inside_a_request():
        async with RequestContext():
            if before is not None:
                await before()
            return closes_on_loop(response, LeanASGIHandler, loop_safe())

    return asyncio.run(inside_a_request())


def response_of_a_request(response):
    response._resource_closers.append(RequestFactory().get("/").close)
    return response


def test_a_request_that_ran_no_sync_code_closes_on_the_loop():
    assert decide(response_of_a_request(HttpResponse(b"x")))


def test_once_sync_code_ran_the_response_closes_on_the_requests_thread():
    # Its thread may hold a connection that close_old_connections must close there.
    assert not decide(response_of_a_request(HttpResponse(b"x")), before=sync_to_async(lambda: None))


def test_a_receiver_the_lab_does_not_know_keeps_djangos_hop():
    def receiver(**kwargs):
        pass

    signals.request_finished.connect(receiver)
    try:
        assert not decide(response_of_a_request(HttpResponse(b"x")))
    finally:
        signals.request_finished.disconnect(receiver)
    assert decide(response_of_a_request(HttpResponse(b"x")))


def test_streamed_responses_and_other_resources_keep_djangos_hop():
    assert not decide(response_of_a_request(StreamingHttpResponse(iter([b"x"]))))
    response = response_of_a_request(HttpResponse(b"x"))
    response._resource_closers.append(lambda: None)  # a file, say: its close may block
    assert not decide(response)


def test_outside_a_requests_context_it_hops():
    assert not closes_on_loop(response_of_a_request(HttpResponse(b"x")), LeanASGIHandler, loop_safe())
