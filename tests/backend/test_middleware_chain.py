"""The lab's middleware as units (stamp) and the proof that Django never adapts it under either handler."""

import importlib
import json
import logging

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpResponse, JsonResponse
from django.test import override_settings

from asynclab.middleware import stamp


class AdaptedLog(logging.Handler):
    """Collects Django's "... handler adapted for middleware ..." debug messages."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        if "adapted" in record.getMessage():
            self.messages.append(record.getMessage())


def adaptations(handler_class, middleware=None):
    """Build a real server-side handler (what gunicorn or uvicorn calls) and collect the
    adaptations Django logs while it loads the middleware chain. Django only logs them
    with DEBUG on, so the check turns it on."""
    log, logger = AdaptedLog(), logging.getLogger("django.request")
    logger.addHandler(log)
    level, logger.level = logger.level, logging.DEBUG
    overrides = {"DEBUG": True} if middleware is None else {"DEBUG": True, "MIDDLEWARE": middleware}
    try:
        with override_settings(**overrides):
            handler_class()
    finally:
        logger.removeHandler(log)
        logger.setLevel(level)
    return log.messages


def sync_only(get_response):
    return get_response


def test_json_built_elsewhere_gets_elapsed_the_articles_way():
    data = json.loads(stamp(JsonResponse({"a": 1}), elapsed=0.0123).content)
    assert data == {"a": 1, "elapsed": 0.0123}


def test_non_json_responses_only_get_the_header():
    response = stamp(HttpResponse(b"<p>hi</p>"), elapsed=0.0123)
    assert response.content == b"<p>hi</p>"
    assert response["Server-Timing"] == "app;dur=12.300"


@pytest.mark.parametrize("handler_class", [WSGIHandler, ASGIHandler])
def test_the_lab_stack_is_never_adapted(handler_class):
    assert adaptations(handler_class) == []


def test_the_adaptation_check_catches_a_sync_only_middleware():
    # The control: a sync-only middleware under ASGI is adapted, and the check sees it.
    messages = adaptations(
        ASGIHandler, ["tests.backend.test_middleware_chain.sync_only", "asynclab.middleware.timing_middleware"]
    )
    assert messages == ["Asynchronous handler adapted for middleware tests.backend.test_middleware_chain.sync_only."]


@pytest.mark.parametrize("service", ["backend", "gateway"])
def test_both_services_run_exactly_the_lab_middleware(service):
    assert importlib.import_module(f"{service}.settings").MIDDLEWARE == ["asynclab.middleware.timing_middleware"]
