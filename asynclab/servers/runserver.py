"""SERVER_MODE=runserver: Django's threaded development server, the article's first setup.

Not for production; here because the article's first experiment ran on it. One process,
a new thread per connection: neither WORKERS nor THREADS has anything to set.
"""

NAME = "runserver"
PACKAGES = ("django",)
INTERFACE = "wsgi"
WORKERS = None
THREADS = None
CONCURRENCY = "one process, a thread per connection"
# A request holds an OS thread of the server's own from start to end (a stream too)
THREAD_PER_REQUEST = True


def arguments(cfg) -> list[str]:
    return ["django", "runserver", f"{cfg.host}:{cfg.port}", "--noreload", "--settings", f"{cfg.service}.settings"]
