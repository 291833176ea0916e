"""SERVER_MODE=daphne: daphne (Django Channels' server, on Twisted) serving the ASGI app.

One process with one asyncio loop (Twisted's asyncio reactor): daphne has no option to
start more, so WORKERS has nothing to set, nor THREADS.
"""

NAME = "daphne"
PACKAGES = ("daphne", "twisted")
INTERFACE = "asgi"
WORKERS = None
THREADS = None
CONCURRENCY = "one process, one event loop; sync views on asgiref threads, one per request in flight"
# A request waits on an event loop (or a greenlet), holding no thread of the server's own
THREAD_PER_REQUEST = False


def arguments(cfg) -> list[str]:
    return [
        "daphne",
        f"{cfg.service}.asgi:application",
        "--bind",
        cfg.host,
        "--port",
        str(cfg.port),
        # Verbosity 0: no access log (the lab's middleware writes one JSON line per request)
        # and only warnings and errors from daphne itself.
        "--verbosity",
        "0",
        # An app still running 3 s after its client left is cancelled, as in the other modes.
        "--application-close-timeout",
        "3",
    ]
