import os

from asynclab.django31 import get_asgi_application
from asynclab.warmup import warm

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
application = warm(get_asgi_application())

try:
    import channels  # noqa: F401 - whether this image has Channels at all
except ImportError:
    # The older Djangos' images carry no Channels (docs/versions.md): HTTP only, and a
    # WebSocket handshake is refused by the server, which finds no handler for it.
    pass
else:
    from backend import chat

    # The rooms beside the HTTP application, on the same port (docs/chat.md).
    application = chat.application(application)
