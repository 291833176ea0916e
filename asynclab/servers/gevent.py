"""SERVER_MODE=gevent: gunicorn's gevent worker, a greenlet per request in WORKERS processes.

The worker monkey-patches the standard library before it loads Django, so time.sleep,
sockets, threads and psycopg's waits (psycopg 3 sees the patched select at import and
waits cooperatively) all yield to other greenlets. The lab's worker class (workers/gevent.py)
adds what gunicorn's lacks: asyncio's running loop kept per greenlet, so that Django's
async views, each on a loop of its own under WSGI, can run side by side.
"""

from .common import Option, gunicorn

NAME = "gunicorn"
PACKAGES = ("gunicorn", "gevent", "greenlet")
INTERFACE = "wsgi"
WORKERS = Option("--workers", "processes")
# gunicorn's own default: the point of greenlets is many requests in flight per process.
THREADS = Option("--worker-connections", "greenlets per process, one connection each", default=1000)
CONCURRENCY = "WORKERS x THREADS requests at once, on one OS thread per process"
# A request waits on an event loop (or a greenlet), holding no thread of the server's own
THREAD_PER_REQUEST = False


def arguments(cfg) -> list[str]:
    return gunicorn(cfg, "asynclab.servers.workers.gevent.Worker", "--worker-connections", str(cfg.threads))
