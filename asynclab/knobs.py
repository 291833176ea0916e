"""Every knob of the lab, declared once: name, default, cast, range or choices, meaning,
section, and who reads it. Long by design: one declaration per knob (about sixty), so
that no default is written anywhere else.

The services read their knobs with `read(NAME)`, which hands the declaration to
asynclab.config's `env()`/`service_env()` (cast, default, range check, a loud ConfigError
naming the variable). `.env.example` and `docs/knobs.md` are generated from this list
(`make knobs`, i.e. `python -m asynclab.knobs`); tests/asynclab/test_knobs.py fails when they are
stale, when code reads a knob not declared here, when a declared knob is read by nothing,
and when docker-compose.yml passes a name that is not declared.

docker-compose.yml passes the services' knobs through by name only (an empty value: the
host's value if it is set, nothing otherwise), so their defaults are written here alone.
The values compose itself interpolates (ports, images, PUBLISH_HOST, HEALTHCHECK_INTERVAL,
RESULTS_DIR, LAB_UID/LAB_GID, POSTGRES_*, NETEM_*: `compose=True` below) also keep their
`${NAME:-default}` there, since compose cannot read Python; the test checks each one equals
the default declared here.
"""

from __future__ import annotations

import importlib
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .api import CLIENT_CHOICES
from .config import env, service_env
from .dbsignals import CHOICES as SIGNAL_CHOICES

# The services with per-service overrides: BACKEND_WORKERS wins over WORKERS for the backend.
SERVICES = ("backend", "gateway")
ROOT = Path(__file__).resolve().parent.parent
ENV_EXAMPLE = ROOT / ".env.example"
DOCS = ROOT / "docs" / "knobs.md"


def base_url(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError("expected a base URL like http://backend:8000")
    return text.strip().rstrip("/")


def normal_host(name: str) -> str:
    """A host as compared: lower case, no brackets round an IPv6 address, no trailing dot."""
    return name.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")


def hosts(text: str) -> str:
    """Host names or addresses, comma- or space-separated, at least one; normalised, joined by commas."""
    names = [normal_host(word) for word in text.replace(",", " ").split()]
    if not names:
        raise ValueError("name at least one host")
    for name in names:
        if not name or not all(char.isascii() and (char.isalnum() or char in ".-_:") for char in name):
            raise ValueError(f"{name!r} is not a host name or address")
    return ",".join(dict.fromkeys(names))


def _lazy(module: str, attribute: str, transform: Callable[[Any], Iterable[Any]] = tuple) -> Callable[[], tuple]:
    """Choices owned by a module that itself reads knobs (imported when first needed)."""
    return lambda: tuple(transform(getattr(importlib.import_module(module), attribute)))


@dataclass(frozen=True)
class Knob:
    name: str
    default: Any
    meaning: str
    section: str
    read_by: tuple[str, ...]
    cast: Callable[[str], Any] | None = None  # None: like the default (config._cast_for)
    choices: tuple | Callable[[], tuple] | None = None
    low: float | str | None = None  # a str names another knob, whose value is the bound
    high: float | str | None = None
    default_at_most: str | None = None  # the default is min(default, that knob's value)
    checked: bool = True  # False: the reader checks the choices itself, with its own message
    per_service: bool = False  # BACKEND_<NAME> / GATEWAY_<NAME> override it for one service
    compose: bool = False  # docker-compose.yml interpolates ${NAME:-default} itself
    shown: str | None = None  # the default as documented, when it is computed at run time

    def allowed(self) -> tuple | None:
        return self.choices() if callable(self.choices) else self.choices

    def overrides(self) -> tuple[str, ...]:
        return tuple(f"{service.upper()}_{self.name}" for service in SERVICES) if self.per_service else ()


SERVER, BACKEND, DATABASE, GATEWAY, NETEM, HOST, LOADGEN, IMAGE, SWARM, CONTAINER = (
    "server",
    "backend",
    "database",
    "gateway",
    "netem",
    "compose/host",
    "loadgen-host",
    "image",
    "swarm",
    "container",
)
BOTH = ("backend", "gateway")

SECTIONS: dict[str, str] = {
    SERVER: "How the services are served, and the Django settings both share.",
    BACKEND: "The backend's slow API and its fault injection (backend/faults.py): rates are shares "
    "of calls chosen by task_id, so n calls at 0.1 give exactly n/10; each has a query "
    "twin (?delay=&fail=&hang=&invalid=&drop=&jitter=).",
    DATABASE: "The backend's database (backend/database.py; the /api/db/ endpoints) and the postgres "
    "service (make up DB=postgres starts it; its image is built from Debian packages offline).",
    GATEWAY: "The gateway's fan-out: defaults for what a caller leaves out, and the largest values accepted.",
    NETEM: "Network latency on everything the backend sends (make netem).",
    HOST: "What compose publishes on the host, and its healthchecks.",
    LOADGEN: "loadgen on the host side. Its own flags each have a LOADGEN_* twin "
    "(python -m loadgen COMMAND --help): `docker compose run -e LOADGEN_TIMEOUT=90s --rm loadgen ...`.",
    IMAGE: "The images. Without a registry the Makefile builds asynclab-base:bookworm from Debian "
    'packages instead of BASE_IMAGE (README, "Offline build").',
    SWARM: "The lab as a Docker Swarm stack (make swarm-up, swarm-lab; docs/swarm.md): the stack file is "
    "generated from docker-compose.yml (swarm/stack.py) with the knobs above, and these.",
    CONTAINER: "Set inside the containers by docker-compose.yml (or by the tests), not host knobs: "
    "not in .env.example, and a value in .env does not reach the services.",
}

_KNOBS: list[Knob] = [
    # --- server ------------------------------------------------------------------------
    Knob(
        "SERVER_MODE",
        "wsgi",
        "the server (docs/servers.md): wsgi = gunicorn (gthread worker), asgi = uvicorn, runserver = Django's dev "
        "server; gunicorn-sync, gevent and uvicorn-worker are gunicorn's other workers",
        SERVER,
        BOTH,
        choices=_lazy("asynclab.servers", "SERVERS", sorted),
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
    # --- backend -----------------------------------------------------------------------
    Knob(
        "BACKEND_MAX_DELAY",
        30.0,
        "largest ?delay= accepted, by the backend and by the gateway; also how long a hung call waits",
        BACKEND,
        BOTH,
        low=0,
        high=3600,
    ),
    Knob(
        "BACKEND_DELAY",
        1.0,
        "seconds an /api/ call sleeps when the caller gives no ?delay=",
        BACKEND,
        ("backend",),
        low=0,
        high="BACKEND_MAX_DELAY",
        default_at_most="BACKEND_MAX_DELAY",
    ),
    Knob("BACKEND_FAIL_RATE", 0.0, "share of calls that answer 503 (?fail=)", BACKEND, ("backend",), low=0, high=1),
    Knob(
        "BACKEND_HANG_RATE",
        0.0,
        "share of calls that hang for BACKEND_MAX_DELAY, past any timeout (?hang=)",
        BACKEND,
        ("backend",),
        low=0,
        high=1,
    ),
    Knob(
        "BACKEND_INVALID_RATE",
        0.0,
        "share of calls that answer 200 with a body that is not JSON (?invalid=)",
        BACKEND,
        ("backend",),
        low=0,
        high=1,
    ),
    Knob(
        "BACKEND_DROP_RATE",
        0.0,
        "share of calls whose connection is cut mid-body (?drop=)",
        BACKEND,
        ("backend",),
        low=0,
        high=1,
    ),
    Knob(
        "BACKEND_JITTER",
        0.0,
        "random extra delay per call, 0..this many seconds (?jitter=)",
        BACKEND,
        ("backend",),
        low=0,
        high="BACKEND_MAX_DELAY",
    ),
    Knob(
        "STREAM_MAX_SECONDS",
        300.0,
        "longest server-sent event stream accepted: ?events= x ?interval= of /api/stream/ at most this many seconds "
        "(docs/streams.md)",
        BACKEND,
        ("backend",),
        low=1,
        high=86400,
    ),
    # --- chat (docs/chat.md): WebSocket rooms through Django Channels, ASGI modes only ----
    Knob(
        "CHANNEL_LAYER",
        "memory",
        "Channels' layer for /ws/rooms/: memory = in each worker process (rooms do not span workers), "
        "redis = the redis service (make up CHANNEL_LAYER=redis starts it; rooms span workers) (docs/chat.md)",
        BACKEND,
        ("backend", "make"),
        str.lower,
        choices=("memory", "redis"),
    ),
    Knob(
        "CHAT_CHANNEL_CAPACITY",
        100,
        "messages the layer queues for one member before it drops the next ones (Channels' `capacity`; "
        "its default is 100): what a slow reader costs is bounded by it",
        BACKEND,
        ("backend",),
        low=1,
        high=100_000,
    ),
    Knob(
        "CHAT_MAX_FRAME",
        16384,
        "largest text frame a member may send, in bytes (UTF-8); a larger one closes it with 1009",
        BACKEND,
        ("backend",),
        low=64,
        high=1_048_576,
    ),
    Knob(
        "CHAT_MEMBER_RATE",
        50.0,
        "frames per second one member may send (a burst of as many); a member sending faster is closed with 1008",
        BACKEND,
        ("backend",),
        low=0.1,
        high=10_000,
    ),
    Knob(
        "CHAT_ROOM_MEMBERS",
        1000,
        "members one worker process admits to one room; the next is refused at the handshake (403)",
        BACKEND,
        ("backend",),
        low=1,
        high=100_000,
    ),
    Knob(
        "CHAT_MAX_MEMBERS",
        10000,
        "WebSocket members one worker process holds at once; the next is refused at the handshake (403)",
        BACKEND,
        ("backend",),
        low=1,
        high=1_000_000,
    ),
    # --- database ----------------------------------------------------------------------
    Knob(
        "DB",
        "sqlite",
        "sqlite = a file in the backend container's /tmp, made at start; postgres = the postgres "
        "service; none = no database (/api/db/ answers 503; Django's database receivers detach)",
        DATABASE,
        ("backend", "make"),
        str.lower,
        choices=_lazy("backend.database", "CHOICES"),
    ),
    Knob(
        "DB_CONN_MAX_AGE",
        0,
        "seconds Django keeps a connection open after a request (0 = closed at its end, "
        "what Django advises under ASGI)",
        DATABASE,
        ("backend",),
        low=0,
        high=3600,
    ),
    Knob(
        "DB_POOL",
        False,
        "Django's psycopg connection pool, one per worker process (DB=postgres only; needs DB_CONN_MAX_AGE=0)",
        DATABASE,
        ("backend",),
    ),
    Knob(
        "DB_POOL_MIN_SIZE",
        2,
        "connections each worker's pool keeps open",
        DATABASE,
        ("backend",),
        low=0,
        high="DB_POOL_MAX_SIZE",
    ),
    Knob(
        "DB_POOL_MAX_SIZE",
        10,
        "the most connections each worker's pool opens",
        DATABASE,
        ("backend",),
        low=1,
        high=1000,
    ),
    Knob(
        "DB_POOL_TIMEOUT",
        10.0,
        "seconds a request waits for a pooled connection, then 503",
        DATABASE,
        ("backend",),
        low=0.1,
        high=300,
    ),
    Knob(
        "DB_WAIT",
        60.0,
        "seconds the backend waits at start for the database to accept connections",
        DATABASE,
        ("backend",),
        low=0,
        high=600,
    ),
    Knob(
        "POSTGRES_DB",
        "asynclab",
        "the lab's database (lower-case name)",
        DATABASE,
        ("backend", "postgres"),
        compose=True,
    ),
    Knob(
        "POSTGRES_USER", "asynclab", "the lab's role (lower-case name)", DATABASE, ("backend", "postgres"), compose=True
    ),
    Knob(
        "POSTGRES_MAX_CONNECTIONS",
        100,
        "PostgreSQL's max_connections: past it, a new connection is refused (checked by docker/postgres.sh)",
        DATABASE,
        ("postgres",),
        low=10,
        high=1000,
        compose=True,
    ),
    Knob(
        "POSTGRES_SECRET_FILE",
        "./build/postgres-password",
        "host file holding the password (a compose secret); make writes a random one if it is missing",
        DATABASE,
        ("compose", "make"),
        compose=True,
    ),
    Knob(
        "POSTGRES_IMAGE",
        "asynclab-postgres:latest",
        "the postgres service's image (make postgres-image)",
        DATABASE,
        ("compose", "make"),
        compose=True,
    ),
    Knob(
        "REDIS_IMAGE",
        "asynclab-redis:latest",
        "the redis service's image, for CHANNEL_LAYER=redis (make redis-image)",
        DATABASE,
        ("compose", "make"),
        compose=True,
    ),
    # --- gateway -----------------------------------------------------------------------
    Knob(
        "GATEWAY_MAX_FANOUT",
        100,
        "largest ?n= (calls per aggregation) accepted",
        GATEWAY,
        ("gateway",),
        low=1,
        high=1000,
    ),
    Knob("GATEWAY_MAX_TIMEOUT", 60.0, "largest ?timeout= accepted", GATEWAY, ("gateway",), low=0.01, high=3600),
    Knob(
        "GATEWAY_TIMEOUT",
        5.0,
        "per-call timeout in seconds when the caller gives no ?timeout= (httpx's own "
        "default; the article's timeouts depend on it)",
        GATEWAY,
        ("gateway",),
        low=0.01,
        high="GATEWAY_MAX_TIMEOUT",
        default_at_most="GATEWAY_MAX_TIMEOUT",
    ),
    Knob(
        "GATEWAY_POOL_SIZE",
        10,
        "threads of the threadpool strategy's ThreadPoolExecutor (the article's max_workers=10)",
        GATEWAY,
        ("gateway",),
        low=1,
        high=1000,
    ),
    Knob("GATEWAY_MAX_DEADLINE", 60.0, "largest ?deadline= accepted", GATEWAY, ("gateway",), low=0.01, high=3600),
    Knob(
        "GATEWAY_BACKEND_WAIT",
        0.0,
        "seconds the gateway waits at start for the backend's /healthz (0: not at all; compose "
        "orders the start with depends_on, the swarm stack, which cannot, sets it)",
        GATEWAY,
        ("gateway",),
        low=0,
        high=600,
    ),
    Knob(
        "GATEWAY_DEADLINE",
        30.0,
        "deadline of a whole fan-out when the caller gives no ?deadline= (above the "
        "article's 10 sequential calls of 1 s)",
        GATEWAY,
        ("gateway",),
        low=0.01,
        high="GATEWAY_MAX_DEADLINE",
        default_at_most="GATEWAY_MAX_DEADLINE",
    ),
    Knob(
        "GATEWAY_MAX_CALLS",
        1000,
        "backend calls in flight per gateway process, over every aggregation; one that does not fit gets 503 at once",
        GATEWAY,
        ("gateway",),
        low="GATEWAY_MAX_FANOUT",
        high=100_000,
    ),
    Knob(
        "GATEWAY_CLIENT",
        "auto",
        "HTTP client when the caller gives no ?client=: auto = aiohttp for gather, "
        "httpx.get with one TLS context for the sync views",
        GATEWAY,
        ("gateway",),
        str.lower,
        choices=CLIENT_CHOICES,
    ),
    # --- netem -------------------------------------------------------------------------
    Knob("NETEM_DELAY", "50ms", "tc netem delay on everything the backend sends", NETEM, ("netem",), compose=True),
    Knob("NETEM_JITTER", "", "optional tc netem jitter, e.g. 10ms", NETEM, ("netem",), compose=True),
    Knob(
        "NETEM_IMAGE",
        "asynclab-netem:latest",
        "the netem sidecar's image (iproute2 only)",
        NETEM,
        ("compose", "make"),
        compose=True,
    ),
    # --- compose/host ------------------------------------------------------------------
    Knob("GATEWAY_PORT", 8000, "host port of the gateway", HOST, ("compose",), low=1, high=65535, compose=True),
    Knob("BACKEND_PORT", 8001, "host port of the backend", HOST, ("compose",), low=1, high=65535, compose=True),
    Knob(
        "EDGE",
        "none",
        "what stands in front of the gateway: none, or nginx (a buffering reverse proxy, the edge service; "
        "docs/streams.md)",
        HOST,
        ("make",),
        str.lower,
        choices=("none", "nginx"),
    ),
    Knob(
        "EDGE_PORT",
        8002,
        "host port of nginx in front of the gateway (EDGE=nginx)",
        HOST,
        ("compose",),
        low=1,
        high=65535,
        compose=True,
    ),
    Knob(
        "NOFILE",
        20000,
        "open files per container (compose ulimits nofile, soft and hard): a socket per connection, 5,000 streams "
        "through the gateway need about 10,000; more than the Docker daemon's own limit fails at start",
        HOST,
        ("compose",),
        low=256,
        high=1048576,
        compose=True,
    ),
    Knob(
        "PUBLISH_HOST",
        "127.0.0.1",
        "host address the ports are published on (loopback, not your LAN)",
        HOST,
        ("compose",),
        compose=True,
    ),
    Knob(
        "HEALTHCHECK_INTERVAL",
        "5s",
        "how often Docker runs each container's healthcheck (a short Python process)",
        HOST,
        ("compose",),
        compose=True,
    ),
    # CPU budgets and pinning, per container: recorded with every result (asynclab/cpu.py
    # reads what the kernel enforces, in each service's /healthz).
    *(
        knob
        for service in ("backend", "gateway", "loadgen")
        for knob in (
            Knob(
                f"{service.upper()}_CPUS",
                0,
                f"cores' worth of CPU time the {service} container may use (compose cpus); 0 = no limit",
                HOST,
                ("compose",),
                float,
                low=0,
                high=64,
                compose=True,
            ),
            Knob(
                f"{service.upper()}_CPUSET",
                "",
                f"CPUs the {service} container may run on, e.g. 0 or 0-1 (compose cpuset); empty = any",
                HOST,
                ("compose",),
                compose=True,
            ),
        )
    ),
    # --- loadgen-host ------------------------------------------------------------------
    Knob(
        "LAB_UID",
        0,
        "user loadgen runs as; 0 (or empty) = the owner of RESULTS_DIR (it starts as root only to become that owner)",
        LOADGEN,
        ("compose",),
        compose=True,
    ),
    Knob(
        "LAB_GID",
        0,
        "group loadgen runs as; 0 (or empty) = the group of RESULTS_DIR",
        LOADGEN,
        ("compose",),
        compose=True,
    ),
    Knob(
        "RESULTS_DIR",
        "./results",
        "host folder loadgen writes its results and report to (starts with ./ or /)",
        LOADGEN,
        ("compose", "make"),
        compose=True,
    ),
    Knob("GIT_COMMIT", "", "recorded with every result; make sets it from git rev-parse", LOADGEN, ("loadgen", "make")),
    # --- swarm -------------------------------------------------------------------------
    Knob("SWARM_STACK", "asynclab", "the stack's name (docker stack deploy ... NAME)", SWARM, ("swarm",)),
    Knob("BACKEND_REPLICAS", 1, "backend tasks, behind Swarm's virtual IP", SWARM, ("swarm",), low=1, high=64),
    Knob("GATEWAY_REPLICAS", 1, "gateway tasks, behind Swarm's virtual IP", SWARM, ("swarm",), low=1, high=64),
    Knob(
        "LOADGEN_REPLICAS",
        2,
        "loadgen replica tasks (`loadgen replica`); make swarm-lab runs every measurement on all of them "
        "and merges their histograms (loadgen --replicas)",
        SWARM,
        ("swarm",),
        low=1,
        high=64,
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
    Knob(
        "SWARM_ENDPOINT_MODE",
        "dnsrr",
        "how a stack's service name reaches its tasks: dnsrr = DNS answers with every task's address (works "
        "everywhere); vip = one virtual IP that IPVS balances per connection (needs the ip_vs kernel module, "
        "which this lab's CI machine lacks)",
        SWARM,
        ("swarm",),
        choices=("dnsrr", "vip"),
    ),
    Knob(
        "REGISTRY",
        "",
        "registry the stack's images come from, host[:port] (make swarm-push pushes them there); empty = the "
        "images on this node, which a single-node swarm needs no registry for",
        SWARM,
        ("swarm", "make"),
    ),
    Knob(
        "REGISTRY_PORT",
        5000,
        "port of the local registry make swarm-push starts when REGISTRY is empty (127.0.0.1 only)",
        SWARM,
        ("swarm",),
        low=1,
        high=65535,
    ),
    Knob(
        "SWARM_RESULTS_DIR",
        "./results/swarm",
        "host folder make swarm-lab writes its results and report to, apart from the compose runs'",
        SWARM,
        ("swarm",),
    ),
    # --- image -------------------------------------------------------------------------
    Knob(
        "LAB_IMAGE",
        "asynclab:latest",
        "the default image: loadgen's, and the backend's and gateway's on the default DJANGO",
        IMAGE,
        ("compose", "make"),
        compose=True,
    ),
    Knob(
        "EDGE_IMAGE",
        "asynclab-nginx:latest",
        "the edge service's image, nginx (make edge-image)",
        IMAGE,
        ("compose", "make"),
        compose=True,
    ),
    Knob(
        "BASE_IMAGE",
        "python:3.11-slim-bookworm",
        "base of the lab image when a registry is reachable",
        IMAGE,
        ("compose", "make"),
        compose=True,
    ),
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
        "DJANGO_IMAGE",
        "asynclab:latest",
        "the backend's and gateway's image; make sets it from DJANGO: LAB_IMAGE on the default Django, "
        "<LAB_IMAGE's name>:django-<version> otherwise, <LAB_IMAGE's name>:py<PYTHON> with PYTHON",
        IMAGE,
        ("compose", "make"),
        compose=True,
    ),
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
    Knob("REDIS_HOST", "redis", "Redis's host (CHANNEL_LAYER=redis)", CONTAINER, ("backend",)),
    Knob("REDIS_PORT", 6379, "Redis's port (CHANNEL_LAYER=redis)", CONTAINER, ("backend",), low=1, high=65535),
]

KNOBS: dict[str, Knob] = {knob.name: knob for knob in _KNOBS}
assert len(KNOBS) == len(_KNOBS), "a knob is declared twice"


def names() -> list[str]:
    """Every variable the registry declares, the per-service overrides included."""
    return [name for knob in _KNOBS for name in (knob.name, *knob.overrides())]


def declared(name: str) -> Knob:
    """The declaration of `name`, also for an override such as BACKEND_WORKERS."""
    if name in KNOBS:
        return KNOBS[name]
    for knob in _KNOBS:
        if name in knob.overrides():
            return knob
    raise KeyError(f"{name} is not a declared knob (asynclab/knobs.py)")


def read(name: str, service: str | None = None, environ: Mapping[str, str] | None = None) -> Any:
    """The value of knob `name`: cast, defaulted and checked as declared, or ConfigError.

    A per-service knob needs `service`: BACKEND_WORKERS, if set, wins over WORKERS. Bounds
    and defaults that name another knob read that knob (from the same environ) first.
    """
    knob = KNOBS[name]
    default = knob.default
    if knob.default_at_most is not None:
        default = min(default, read(knob.default_at_most, service, environ))
    kwargs: dict[str, Any] = {
        "choices": knob.allowed() if knob.checked else None,
        "low": _bound(knob.low, service, environ),
        "high": _bound(knob.high, service, environ),
        "environ": environ,
    }
    if knob.per_service:
        if service not in SERVICES:
            raise ValueError(f"{name} is read per service: give one of {', '.join(SERVICES)}")
        return service_env(service, name, default, cast=knob.cast, **kwargs)
    return env(name, default, knob.cast, **kwargs)


def _bound(bound: float | str | None, service: str | None, environ: Mapping[str, str] | None) -> float | None:
    return read(bound, service, environ) if isinstance(bound, str) else bound


# --- Generated files -----------------------------------------------------------------------

GENERATED = "Generated from asynclab/knobs.py by `make knobs`: edit the registry, not this file."


def text(value: Any) -> str:
    """A value as it is written in .env: true/false, 30 not 30.0."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def shown_default(knob: Knob) -> str:
    return knob.shown if knob.shown is not None else text(knob.default)


def shown_range(knob: Knob, code: Callable[[str], str] = str) -> str:
    choices = knob.allowed()
    if choices is not None:
        return ", ".join(code(text(choice)) for choice in choices)
    if isinstance(knob.default, bool):
        return ", ".join(code(choice) for choice in ("true", "false"))
    if knob.low is None and knob.high is None:
        return ""

    def end(bound: float | str | None) -> str:
        return code(bound) if isinstance(bound, str) else text(bound)

    return f"{end(knob.low)}..{end(knob.high)}"


def env_example() -> str:
    lines = [
        "# asynclab knobs, with their defaults. Copy to .env (git-ignored) to change them, or give",
        "# them on the command line: `make up SERVER_MODE=asgi` / `SERVER_MODE=asgi make up`.",
        f"# {GENERATED}",
        "# docs/knobs.md has the same list as a table.",
    ]
    for section, about in SECTIONS.items():
        if section == CONTAINER:
            continue
        lines += ["", f"# --- {section} ".ljust(88, "-"), *_wrap(about, "# ")]
        for knob in _KNOBS:
            if knob.section != section:
                continue
            limits = shown_range(knob)
            note = f" ({limits})" if limits else ""
            if knob.default_at_most:
                note += f"; at most {knob.default_at_most} when unset"
            lines += [*_wrap(f"{knob.meaning}{note}.", "# "), f"{knob.name}={shown_default(knob)}"]
            if knob.per_service:
                lines += [
                    f"# Per-service override of {knob.name}; empty = use {knob.name}.",
                    *(f"{name}=" for name in knob.overrides()),
                ]
    return "\n".join(lines) + "\n"


def docs() -> str:
    lines = [
        "# Knobs",
        "",
        f"<!-- {GENERATED} -->",
        "",
        "Every knob is an environment variable. Give it on the command line (`make up SERVER_MODE=asgi`),",
        "in the environment (`SERVER_MODE=asgi make up`) or in `.env` (copy `.env.example`). Empty means",
        "the default. A bad value stops the service at start with a message naming the variable.",
        "",
        "*Read by*: `backend`, `gateway` (the Django services, through `asynclab/knobs.py`), `postgres`,",
        "`netem`, `loadgen` (those containers), `compose` (docker-compose.yml interpolates it), `make`.",
        "docker-compose.yml passes the services' knobs through by name, so their defaults are only here;",
        "the values compose interpolates keep their `${NAME:-default}` there too, and a test keeps the",
        "two equal.",
    ]
    for section, about in SECTIONS.items():
        lines += [
            "",
            f"## {section}",
            "",
            about,
            "",
            "| knob | default | range / choices | meaning | read by |",
            "|---|---|---|---|---|",
        ]
        for knob in _KNOBS:
            if knob.section != section:
                continue
            name = f"`{knob.name}`"
            if knob.per_service:
                name += " (" + ", ".join(f"`{o}`" for o in knob.overrides()) + " override it per service)"
            default = f"`{shown_default(knob)}`" if shown_default(knob) else "empty"
            if knob.default_at_most:
                default += f" (at most `{knob.default_at_most}`)"
            meaning = knob.meaning.replace("|", "\\|")
            read_by = ", ".join(knob.read_by)
            lines.append(f"| {name} | {default} | {shown_range(knob, lambda s: f'`{s}`')} | {meaning} | {read_by} |")
    return "\n".join(lines) + "\n"


def _wrap(paragraph: str, prefix: str, width: int = 92) -> list[str]:
    lines, line = [], prefix
    for word in paragraph.split():
        if len(line) + len(word) > width and line != prefix:
            lines.append(line.rstrip())
            line = prefix
        line += word + " "
    return [*lines, line.rstrip()]


FILES: dict[Path, Callable[[], str]] = {ENV_EXAMPLE: env_example, DOCS: docs}


def stale() -> list[Path]:
    """The generated files that differ from what the registry would write now."""
    return [path for path, render in FILES.items() if not path.is_file() or path.read_text() != render()]


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        old = stale()
        for path in old:
            print(f"{path.relative_to(ROOT)} is stale: run make knobs", file=sys.stderr)
        return 1 if old else 0
    if argv:
        print("usage: python -m asynclab.knobs [--check]", file=sys.stderr)
        return 2
    for path, render in FILES.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render())
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
