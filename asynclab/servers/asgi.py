"""SERVER_MODE=asgi: uvicorn, WORKERS processes, each one event loop (uvloop + httptools)."""

from .common import Option, at_least

NAME = "uvicorn"
PACKAGES = ("uvicorn", "uvloop", "httptools")
INTERFACE = "asgi"
WORKERS = Option("--workers", "processes, one event loop each")
# uvicorn has no thread knob: sync views run on asgiref's threads instead.
THREADS = None
CONCURRENCY = "one event loop per process; sync views on asgiref threads, one per request in flight"
# A request waits on an event loop (or a greenlet), holding no thread of the server's own
THREAD_PER_REQUEST = False


def arguments(cfg) -> list[str]:
    return [
        "uvicorn",
        f"{cfg.service}.asgi:application",
        "--host",
        cfg.host,
        "--port",
        str(cfg.port),
        "--workers",
        str(cfg.workers),
        # Django does not speak the lifespan protocol; "off" saves a confusing log line.
        "--lifespan",
        "off",
        # uvicorn 0.12 and 0.14 (the Django 3.x images) have no such option: they wait for
        # every request, and compose's stop_grace_period cuts it.
        *(["--timeout-graceful-shutdown", "3"] if at_least("uvicorn", 0, 20) else []),
        # The lab's middleware writes one JSON access line per request, with its id.
        "--no-access-log",
    ]
