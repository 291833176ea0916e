"""SERVER_MODE=granian: granian (a Rust HTTP server, hyper and tokio) serving the ASGI app.

Each worker process runs the app on one asyncio loop; granian allows only one blocking
thread with ASGI, so THREADS has nothing to set (sync views run on asgiref's threads).
"""

from .common import Option

NAME = "granian"
PACKAGES = ("granian",)
INTERFACE = "asgi"
WORKERS = Option("--workers", "processes, one event loop each")
THREADS = None
CONCURRENCY = "one event loop per process; sync views on asgiref threads, one per request in flight"
# A request waits on an event loop (or a greenlet), holding no thread of the server's own
THREAD_PER_REQUEST = False


def arguments(cfg) -> list[str]:
    return [
        "granian",
        f"{cfg.service}.asgi:application",
        # asginl: ASGI without lifespan, which Django does not speak.
        "--interface",
        "asginl",
        *common(cfg, websockets=True),
    ]


def common(cfg, websockets: bool = False) -> list[str]:
    """What both granian modes pass; WebSockets only to the ASGI app, the chat rooms'
    (backend/chat.py): a WSGI app cannot take one, and answers /ws/... with a 400 JSON."""
    return [
        "--host",
        cfg.host,
        "--port",
        str(cfg.port),
        "--workers",
        str(cfg.workers),
        # HTTP/1.1 as every other mode serves (no h2c upgrade).
        "--http",
        "1",
        *([] if websockets else ["--no-ws"]),
        # The lab's middleware writes one JSON access line per request, with its id.
        "--no-access-log",
        # A worker that dies (killed, out of memory) is started again, as gunicorn's and
        # uvicorn's masters do: without it granian stops the whole server (make faults).
        "--respawn-failed-workers",
        # Short grace so `make down` is quick: workers still busy after 3 s are killed.
        "--workers-kill-timeout",
        "3",
    ]
