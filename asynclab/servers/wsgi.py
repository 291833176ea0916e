"""SERVER_MODE=wsgi: gunicorn with the gthread worker, WORKERS processes x THREADS threads."""

from .common import Option, gunicorn

NAME = "gunicorn"
PACKAGES = ("gunicorn",)
INTERFACE = "wsgi"
WORKERS = Option("--workers", "processes")
THREADS = Option("--threads", "threads per process, one request each")
CONCURRENCY = "WORKERS x THREADS requests at once"
# A request holds an OS thread of the server's own from start to end (a stream too)
THREAD_PER_REQUEST = True


def arguments(cfg) -> list[str]:
    return gunicorn(cfg, "gthread", "--threads", str(cfg.threads))
