"""SERVER_MODE=gunicorn-sync: gunicorn's sync worker, one request at a time per process.

The classic pre-fork server: WORKERS requests at once, and a slow request holds its
whole process. gunicorn would switch to gthread if --threads were above 1, so THREADS is
refused here instead of silently changing the worker.
"""

from .common import Option, gunicorn

NAME = "gunicorn"
PACKAGES = ("gunicorn",)
INTERFACE = "wsgi"
WORKERS = Option("--workers", "processes, one request each")
THREADS = None
CONCURRENCY = "WORKERS requests at once"
# A request holds an OS thread of the server's own from start to end (a stream too)
THREAD_PER_REQUEST = True


def arguments(cfg) -> list[str]:
    # The sync worker beats its heartbeat only between requests: with gunicorn's default
    # 30 s it would kill a worker serving one of the lab's long calls (a 30 s delay, a
    # fan-out's 60 s deadline). The lab bounds every request itself, so no timeout.
    return gunicorn(cfg, "sync", "--timeout", "0")
