"""SERVER_MODE=wsgi: gunicorn with the gthread worker, WORKERS processes x THREADS threads."""

from ..edge import server_limits

NAME = "gunicorn"


def arguments(cfg) -> list[str]:
    limits = server_limits()
    return [
        "gunicorn",
        f"{cfg.service}.wsgi:application",
        "--bind",
        f"{cfg.host}:{cfg.port}",
        "--worker-class",
        "gthread",
        "--workers",
        str(cfg.workers),
        "--threads",
        str(cfg.threads),
        # Short grace so `make down` is quick; in-flight lab calls are seconds at most.
        "--graceful-timeout",
        "3",
        # Heartbeat files in memory, not on the container's (possibly read-only) disk.
        "--worker-tmp-dir",
        "/dev/shm",
        # No --access-logfile: the lab's middleware writes one JSON access line per request.
        # gunicorn 27 opens a control socket in $HOME by default; the lab does not use it.
        "--no-control-socket",
        # Above the lab's own limits (asynclab/edge.py), so the lab answers 414/431 in JSON
        # first; gunicorn's defaults (8190-byte field, 100 fields) sit below some of them.
        "--limit-request-line",
        str(limits["request_line"]),
        "--limit-request-fields",
        str(limits["header_fields"]),
        "--limit-request-field_size",
        str(limits["header_field_bytes"]),
    ]
