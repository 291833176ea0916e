"""DJANGO31_THREADS=on: every sync view of a process on one shared thread, as Django 3.1
ran them under ASGI, before 4.0 gave each request its own thread-sensitive context (3.2
still shares one thread: docs/versions.md measures both).

Off by default. It is here to reproduce the article's "uvicorn, one worker, sync view ->
the calls pile up and time out" next to what current Django does. Under WSGI it changes
nothing: there the server's own threads run the views.
"""

from concurrent.futures import ThreadPoolExecutor

from django.conf import settings


def django_asgi_application():
    """Django's ASGI application, through the lab's handler only when LEAN asks for it: that
    handler is Django 5.2's, and the entrypoint refuses LEAN on any other Django."""
    if settings.LEAN:
        from .handler import get_asgi_application
    else:
        from django.core.asgi import get_asgi_application
    return get_asgi_application()


def get_asgi_application():
    application = django_asgi_application()
    if not settings.DJANGO31_THREADS:
        return application
    # asgiref 3.3 (Django 3.1's) has no ThreadSensitiveContext, 3.4 (3.2's) takes no executor:
    # the entrypoint refuses DJANGO31_THREADS on both (asynclab/features.py).
    from asgiref.sync import ThreadSensitiveContext

    shared = ThreadPoolExecutor(max_workers=1, thread_name_prefix="django31")

    async def django31_application(scope, receive, send):
        # The outermost thread-sensitive context wins: Django's own per-request one,
        # entered inside, then sends every sync view to this one thread.
        async with ThreadSensitiveContext(executor=shared):
            await application(scope, receive, send)

    return django31_application
