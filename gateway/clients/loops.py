"""Is this event loop the server's own (ASGI, lives as long as the worker) or a one-off
that Django made for one async view under WSGI (gone after the request)?"""

from django.conf import settings


def long_lived() -> bool:
    return settings.SERVER.mode == "asgi"
