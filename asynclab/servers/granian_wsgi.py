"""SERVER_MODE=granian-wsgi: granian serving the WSGI app on a pool of blocking threads.

granian's Rust side reads and writes the sockets; each request runs the Django handler on
one of THREADS Python threads per worker (granian's --blocking-threads).
"""

from . import granian
from .common import Option

NAME = "granian"
PACKAGES = ("granian",)
INTERFACE = "wsgi"
WORKERS = Option("--workers", "processes")
THREADS = Option("--blocking-threads", "Python threads per process, one request each")
CONCURRENCY = "WORKERS x THREADS requests at once"
# A request holds an OS thread of the server's own from start to end (a stream too)
THREAD_PER_REQUEST = True


def arguments(cfg) -> list[str]:
    return [
        "granian",
        f"{cfg.service}.wsgi:application",
        "--interface",
        "wsgi",
        "--blocking-threads",
        str(cfg.threads),
        *granian.common(cfg),
    ]
