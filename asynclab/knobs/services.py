"""The knobs both services read, and what loadgen reads in the same image: how the services
are served (server), what compose sets inside the containers (container), and IN_CONTAINERS,
the few knobs documented among the stack's (stack.py places them there) that code in the image
reads too. KNOBS gathers every knob the image needs: these, backend.py's and gateway.py's.
This package ships in the image without stack.py (.dockerignore), so nothing here imports it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..dbsignals import CHOICES as SIGNAL_CHOICES
from . import backend, gateway
from .knob import (
    BOTH,
    CONTAINER,
    IMAGE,
    SERVER,
    SWARM,
    Knob,
    base_url,
    hosts,
    lazy,
)

SERVING: list[Knob] = [
    # --- server ------------------------------------------------------------------------
    Knob(
        "SERVER_MODE",
        "wsgi",
        "the server (docs/servers.md): wsgi = gunicorn (gthread worker), asgi = uvicorn, runserver = Django's dev "
        "server; gunicorn-sync, gevent and uvicorn-worker are gunicorn's other workers",
        SERVER,
        BOTH,
        choices=lazy("asynclab.servers", "SERVERS", sorted),
        checked=False,
        per_service=True,
    ),
    Knob(
        "WORKERS",
        1,
        "server processes per service (each server's --workers; docs/servers.md); setting it under runserver or "
        "daphne, which run one process, stops the service at start",
        SERVER,
        BOTH,
        low=1,
        high=64,
        per_service=True,
    ),
    Knob(
        "THREADS",
        10,
        "requests one worker runs at once, where the server has such a knob: gunicorn --threads (wsgi), "
        "--worker-connections (gevent; 1000 when unset), granian --blocking-threads (granian-wsgi); setting it "
        "in any other mode stops the service at start (docs/servers.md)",
        SERVER,
        BOTH,
        low=1,
        high=1000,
        per_service=True,
    ),
    Knob(
        "LOG_LEVEL",
        "INFO",
        "Django's log level",
        SERVER,
        BOTH,
        str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
    ),
    Knob(
        "DJANGO_DEBUG",
        False,
        "Django's DEBUG: never true for measurements (it keeps and logs extra state per request)",
        SERVER,
        BOTH,
    ),
    Knob(
        "DJANGO_SECRET_KEY",
        "",
        "empty = a fresh random key per process (the lab signs nothing that must persist)",
        SERVER,
        BOTH,
    ),
    Knob(
        "ALLOWED_HOSTS",
        "localhost,127.0.0.1,[::1],backend,gateway",
        "host names Django answers to, comma-separated (the service names, for calls between containers)",
        SERVER,
        BOTH,
    ),
    Knob(
        "DB_SIGNALS",
        "auto",
        "Django's database receivers on request_started/finished: auto = detached when a "
        "service has no database (under ASGI they cost a thread per request in flight), on = Django as shipped, "
        "off = detached (refused with a database)",
        SERVER,
        BOTH,
        str.lower,
        choices=SIGNAL_CHOICES,
    ),
    Knob(
        "DJANGO31_THREADS",
        False,
        "true = Django 3.1's ASGI threading, every sync view of a process on one shared "
        "thread, to reproduce the article's timeouts (ASGI only; asynclab/django31.py); never for normal measurements",
        SERVER,
        BOTH,
    ),
    Knob(
        "LEAN",
        False,
        "true = under ASGI, skip the thread hops Django makes per request but does not need: "
        "request_started's database receivers, response.close() on a thread when no sync code ran, "
        "log_response for a response already logged (asynclab/handler.py, docs/asgi-tax.md); false = Django as shipped",
        SERVER,
        BOTH,
    ),
]

SET_BY_COMPOSE: list[Knob] = [
    # --- container ---------------------------------------------------------------------
    Knob("BIND_HOST", "0.0.0.0", "address the server listens on", CONTAINER, BOTH),
    Knob("PORT", 8000, "port the server listens on (and the healthcheck asks)", CONTAINER, BOTH, low=1, high=65535),
    Knob(
        "BACKEND_URL",
        "http://backend:8000",
        "the only place the gateway sends requests (never anything a client says: no SSRF)",
        CONTAINER,
        ("gateway",),
        base_url,
    ),
    Knob(
        "DB_PATH",
        str(Path(tempfile.gettempdir()) / "asynclab-backend.sqlite3"),
        "the SQLite file (DB=sqlite)",
        CONTAINER,
        ("backend",),
        shown="$TMPDIR/asynclab-backend.sqlite3",
    ),
    Knob("POSTGRES_HOST", "postgres", "PostgreSQL's host", CONTAINER, ("backend",)),
    Knob("POSTGRES_PORT", 5432, "PostgreSQL's port", CONTAINER, ("backend",), low=1, high=65535),
    Knob(
        "POSTGRES_PASSWORD_FILE",
        "",
        "file holding the password (compose mounts the secret there); wins over POSTGRES_PASSWORD",
        CONTAINER,
        ("backend", "postgres"),
    ),
    Knob("POSTGRES_PASSWORD", "", "the password, when there is no POSTGRES_PASSWORD_FILE", CONTAINER, ("backend",)),
]

# Declared here, not in stack.py, because code in the image reads them: asynclab/features.py
# DJANGO and PYTHON, loadgen LOADGEN_SECRET_FILE's default and LOADGEN_REPLICA_TARGETS.
IN_CONTAINERS: dict[str, Knob] = {
    knob.name: knob
    for knob in (
        Knob(
            "DJANGO",
            "5.2",
            "the Django the backend and gateway run (docs/versions.md): each version its own image, lock and Python "
            "(3.1, 3.2 on 3.9; 4.2, 5.2 on 3.11; 6.1 on 3.13); loadgen keeps the default image; a service whose "
            "image runs another Django stops at start",
            IMAGE,
            ("backend", "gateway", "make"),
            str,
            choices=("3.1", "3.2", "4.2", "5.2", "6.1"),
        ),
        Knob(
            "PYTHON",
            "",
            "the backend's and gateway's interpreter when not DJANGO's own (docs/versions.md): CPython 3.14 built "
            "from one source with the GIL (3.14) and without it (3.14t), running Django 6.1; empty = DJANGO's image; "
            "loadgen keeps the default image; a service whose image runs another interpreter stops at start",
            IMAGE,
            ("backend", "gateway", "make"),
            str,
            choices=("3.14", "3.14t"),
        ),
        Knob(
            "LOADGEN_SECRET_FILE",
            "./build/loadgen-secret",
            "host file holding the secret loadgen replicas and their conductor share (a compose and Swarm secret, "
            "which loadgen reads at /run/secrets/loadgen_secret in its containers); make writes a random one if it is "
            "missing; a replica without one refuses to start (docs/swarm.md)",
            SWARM,
            ("compose", "make"),
            compose=True,
        ),
        Knob(
            "LOADGEN_REPLICA_TARGETS",
            "gateway,backend,edge",
            "hosts a loadgen replica may send requests to, comma-separated: it refuses a plan naming any other and a "
            "redirect elsewhere; set but empty stops the replica at start",
            SWARM,
            ("loadgen", "swarm"),
            hosts,
        ),
    )
}

KNOBS: list[Knob] = [*SERVING, *backend.KNOBS, *gateway.KNOBS, *SET_BY_COMPOSE]
