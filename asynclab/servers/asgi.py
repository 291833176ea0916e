"""SERVER_MODE=asgi: uvicorn, WORKERS processes, each one event loop (uvloop + httptools)."""

NAME = "uvicorn"


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
        "--timeout-graceful-shutdown",
        "3",
        # The lab's middleware writes one JSON access line per request, with its id.
        "--no-access-log",
    ]
