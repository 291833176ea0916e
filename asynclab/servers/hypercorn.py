"""SERVER_MODE=hypercorn: hypercorn (h11) serving the ASGI app, WORKERS processes on uvloop.

Its one head-size bound, h11_max_incomplete_size, has no command-line option: the lab sets
it through hypercorn's `python:` config (hypercorn_config.py), above the lab's own limits.
"""

from .common import Option

NAME = "hypercorn"
PACKAGES = ("hypercorn", "h11")
INTERFACE = "asgi"
WORKERS = Option("--workers", "processes, one event loop each")
THREADS = None
CONCURRENCY = "one event loop per process; sync views on asgiref threads, one per request in flight"
# A request waits on an event loop (or a greenlet), holding no thread of the server's own
THREAD_PER_REQUEST = False


def arguments(cfg) -> list[str]:
    return [
        "hypercorn",
        f"{cfg.service}.asgi:application",
        "--config",
        "python:asynclab.servers.hypercorn_config",
        "--bind",
        f"{cfg.host}:{cfg.port}",
        "--workers",
        str(cfg.workers),
        "--worker-class",
        "uvloop",
        # Short grace so `make down` is quick (also hypercorn's default, said here).
        "--graceful-timeout",
        "3",
        # No --access-logfile: off by default; the lab's middleware writes the access lines.
    ]
