"""SERVER_MODE=uvicorn-worker: gunicorn as the process manager, uvicorn in each worker.

What uvicorn's docs recommend for production: gunicorn's arbiter (worker restarts,
heartbeats) around uvicorn's event loop. The lab's worker class (workers/uvicorn.py)
turns off what the asgi mode turns off: lifespan and uvicorn's access log.
"""

from .common import Option, gunicorn

NAME = "gunicorn"
PACKAGES = ("gunicorn", "uvicorn-worker", "uvicorn")
INTERFACE = "asgi"
WORKERS = Option("--workers", "processes, one event loop each")
THREADS = None
CONCURRENCY = "one event loop per process; sync views on asgiref threads, one per request in flight"
# A request waits on an event loop (or a greenlet), holding no thread of the server's own
THREAD_PER_REQUEST = False


def arguments(cfg) -> list[str]:
    # uvicorn reads the requests (httptools), so gunicorn's parser limits would not apply.
    return gunicorn(cfg, "asynclab.servers.workers.uvicorn.Worker", parser=False)
