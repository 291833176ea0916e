"""A knob's declaration (`Knob`), the sections it is documented in, the registry and `read`.

The registry, `KNOBS`, is filled once, when the package is imported (asynclab/knobs/__init__.py
hands it the declarations of services.py and, on the host, of stack.py): `read`, `declared`
and `names` answer from it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..config import env, service_env

# The services with per-service overrides: BACKEND_WORKERS wins over WORKERS for the backend.
SERVICES = ("backend", "gateway")


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


def text(value: Any) -> str:
    """A value as it is written in .env: true/false, 30 not 30.0."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def lazy(module: str, attribute: str, transform: Callable[[Any], Iterable[Any]] = tuple) -> Callable[[], tuple]:
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

# Filled by declare(), once, as the package is imported; in declaration order, which is
# each section's order in .env.example and docs/knobs.md.
KNOBS: dict[str, Knob] = {}


def declare(knobs: Iterable[Knob]) -> None:
    for knob in knobs:
        assert knob.name not in KNOBS, f"{knob.name} is declared twice"
        KNOBS[knob.name] = knob


def names() -> list[str]:
    """Every variable the registry declares, the per-service overrides included."""
    return [name for knob in KNOBS.values() for name in (knob.name, *knob.overrides())]


def declared(name: str) -> Knob:
    """The declaration of `name`, also for an override such as BACKEND_WORKERS."""
    if name in KNOBS:
        return KNOBS[name]
    for knob in KNOBS.values():
        if name in knob.overrides():
            return knob
    raise KeyError(f"{name} is not a declared knob (asynclab/knobs/)")


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
