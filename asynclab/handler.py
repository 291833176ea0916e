"""The lab's ASGI handler: Django's own, or with LEAN=true one that skips the thread hops
Django makes on every request but does not need (docs/asgi-tax.md).

Django 5.2's ASGIHandler opens a thread-sensitive context per request, and each request
then starts a thread for three sync_to_async calls (and, with asgiref 3.13, a second thread
to join the first at the end), even when the view is async and touches no database:

- request_started: the sync receivers reset_queries and close_old_connections, which run on
  that brand-new thread, where no connection can exist yet: they never find anything;
- response.close(): request_finished's receivers (reset_urlconf, close_old_connections,
  close_caches), on the request's thread, which holds a connection only if sync code ran on it;
- log_response() for a 4xx/5xx answer (the loop's default executor), which returns at once
  when the response has already been logged (the lab's middleware marks every response it
  writes an access line for).

LeanASGIHandler detaches the first two receivers from request_started (asynclab.dbsignals),
closes the response on the event loop when the request never ran sync code (so its thread
was never started and holds nothing) and only those receivers listen, skips log_response
for a response already logged, and ends the request's context without the joining thread.
A request that did run sync code (a sync view, the ORM) is closed on its own thread exactly
as Django does, so its connection is closed there. The methods below are Django 5.2's with
those changes; tests/asynclab/test_lean.py checks that Django's and asgiref's are still the
versions they were copied from.
"""

from __future__ import annotations

import asyncio

import django
from asgiref.sync import AsyncToSync, SyncToAsync, ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.cache import close_caches
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import close_old_connections
from django.http import HttpRequest
from django.urls import set_script_prefix, set_urlconf
from django.utils.log import log_response

from . import dbsignals, logs

# Cache backends whose close() does nothing: closing them on the event loop blocks nothing.
IN_PROCESS_CACHES = frozenset(
    {"django.core.cache.backends.locmem.LocMemCache", "django.core.cache.backends.dummy.DummyCache"}
)


def loop_safe() -> frozenset:
    """request_finished receivers that may run on the event loop when the request never ran
    sync code: reset_urlconf sets a context-local; close_old_connections finds no connection
    on a thread that never ran the ORM; close_caches, when every cache lives in the process."""
    safe = {base.reset_urlconf, close_old_connections}
    if all(config.get("BACKEND") in IN_PROCESS_CACHES for config in settings.CACHES.values()):
        safe.add(close_caches)
    return frozenset(safe)


def get_asgi_application() -> ASGIHandler:
    """django.core.asgi.get_asgi_application, with the lean handler when LEAN=true."""
    django.setup(set_prefix=False)
    return LeanASGIHandler() if settings.LEAN else ASGIHandler()


def ran_sync_code() -> bool:
    """Whether this request's thread-sensitive context has a thread (sync code ran in it),
    or thread-sensitive calls go to a thread outside it (DJANGO31_THREADS, async_to_sync)."""
    if getattr(AsyncToSync.executors, "current", None) is not None:
        return True
    context = SyncToAsync.thread_sensitive_context.get(None)
    return context is None or context in SyncToAsync.context_to_thread_executor


def closes_on_loop(response, sender: type, safe: frozenset) -> bool:
    """Whether response.close() may run on the event loop: no sync code ran for the request,
    the response holds nothing but its request (no file, no streamed iterator), and only
    receivers in `safe` listen to request_finished."""
    if response.streaming or ran_sync_code():
        return False
    for closer in response._resource_closers:
        request = getattr(closer, "__self__", None)
        if not isinstance(request, HttpRequest) or getattr(request, "_files", None):
            return False
    sync_receivers, async_receivers = signals.request_finished._live_receivers(sender)
    return not async_receivers and all(receiver in safe for receiver in sync_receivers)


class RequestContext(ThreadSensitiveContext):
    """asgiref's per-request thread-sensitive context, ending without a second thread.

    asgiref 3.13 joins the request's thread in a thread it starts for the purpose, so that a
    join never blocks the loop. By the time Django's handler leaves the context every call
    it sent to that thread has returned (a cancelled one is awaited to its end), so the
    thread is idle: shut down without waiting, it reads the stop sentinel and ends by itself.
    """

    async def __aexit__(self, exc, value, tb):
        if self._executor is not None or not self.token:
            return await super().__aexit__(exc, value, tb)
        executor = SyncToAsync.context_to_thread_executor.pop(self, None)
        SyncToAsync.thread_sensitive_context.reset(self.token)
        self.token = None
        if executor is not None:
            executor.shutdown(wait=False)


class LeanASGIHandler(ASGIHandler):
    """Django's ASGIHandler without the per-request thread hops it does not need."""

    def __init__(self) -> None:
        super().__init__()
        self.loop_safe = loop_safe()
        stripped = dbsignals.lean(getattr(settings, "DJANGO31_THREADS", False))
        logs.event("lean", handler="asynclab.handler.LeanASGIHandler", request_started_detached=stripped)

    async def close(self, response) -> None:
        if closes_on_loop(response, self.__class__, self.loop_safe):
            response.close()
        else:
            await sync_to_async(response.close)()

    # Django 5.2's ASGIHandler.__call__; changed: the context is RequestContext.
    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        async with RequestContext():
            await self.handle(scope, receive, send)

    # Django 5.2's ASGIHandler.handle; changed: both response closes go through self.close.
    async def handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        await signals.request_started.asend(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            await self.send_response(error_response, send)
            await self.close(error_response)
            return

        async def process_request(request, send):
            response = await self.run_get_response(request)
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass
            return response

        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(process_request(request, send)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass

        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            await signals.request_finished.asend(sender=self.__class__)
        else:
            await self.close(response)

        body_file.close()

    # Django 5.2's BaseHandler.get_response_async; changed: no hop to log a response that
    # has already been logged (log_response itself would return at once).
    async def get_response_async(self, request):
        set_urlconf(settings.ROOT_URLCONF)
        response = await self._middleware_chain(request)
        response._resource_closers.append(request.close)
        if response.status_code >= 400 and not getattr(response, "_has_been_logged", False):
            await sync_to_async(log_response, thread_sensitive=False)(
                "%s: %s",
                response.reason_phrase,
                request.path,
                response=response,
                request=request,
            )
        return response
