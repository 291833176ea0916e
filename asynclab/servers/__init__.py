"""Server modes: one small module per server, and a registry keyed by SERVER_MODE.

Switching SERVER_MODE changes how a service is served and nothing else: the same Django
project runs under any of the servers below. Each module declares its server (NAME, and
the PACKAGES whose versions /healthz reports, the server's first), the INTERFACE it serves
(the service's wsgi or asgi module), what WORKERS and THREADS set in it (an Option, or
None: the server has no such knob, and setting it stops the service at start), what one
worker runs at once (CONCURRENCY), whether a request holds a thread of the server's own
for its whole life (THREAD_PER_REQUEST), and its argv for a ServerConfig.

gunicorn's master imports this package for the lab's worker classes (workers/): nothing
here imports Django or a server at import time.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Protocol

from ..config import ConfigError
from ..knobs import read
from . import (
    asgi,
    daphne,
    gevent,
    granian,
    granian_wsgi,
    gunicorn_sync,
    hypercorn,
    runserver,
    uvicorn_worker,
    wsgi,
)
from .common import Option


class Server(Protocol):
    """What a server-mode module provides."""

    NAME: str
    PACKAGES: tuple[str, ...]
    INTERFACE: str
    WORKERS: Option | None
    THREADS: Option | None
    CONCURRENCY: str
    # Whether every request in flight holds one of the server's threads for its whole life
    # (gthread, sync workers, runserver): N long-lived streams then need N threads.
    THREAD_PER_REQUEST: bool

    def arguments(self, cfg: ServerConfig) -> list[str]: ...


SERVERS: dict[str, Server] = {
    "wsgi": wsgi,
    "asgi": asgi,
    "runserver": runserver,
    "gunicorn-sync": gunicorn_sync,
    "gevent": gevent,
    "uvicorn-worker": uvicorn_worker,
    "granian": granian,
    "granian-wsgi": granian_wsgi,
    "hypercorn": hypercorn,
    "daphne": daphne,
}
SERVICES = ("backend", "gateway")
# The knobs a mode maps onto its server's own options, as the modules name them.
MAPPED = ("WORKERS", "THREADS")


def given(name: str, service: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The variable that sets knob `name` for `service` (its per-service override first), or
    None when neither is set: empty counts as unset, as for every knob, so compose passing
    an unset knob through by name does not count."""
    environ = os.environ if environ is None else environ
    for variable in (f"{service.upper()}_{name}", name):
        if environ.get(variable, "").strip():
            return variable
    return None


@cache
def versions(packages: tuple[str, ...]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for package in packages:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found


@dataclass(frozen=True)
class ServerConfig:
    service: str
    mode: str
    host: str
    port: int
    workers: int
    threads: int | None

    @classmethod
    def from_env(cls, service: str, environ: Mapping[str, str] | None = None) -> ServerConfig:
        if service not in SERVICES:
            raise ConfigError(f"unknown service {service!r}: choose one of {', '.join(SERVICES)}")
        mode = read("SERVER_MODE", service, environ).strip().lower()
        if mode not in SERVERS:
            raise ConfigError(f"unknown SERVER_MODE {mode!r} for {service}: choose one of {', '.join(sorted(SERVERS))}")
        server = SERVERS[mode]
        missing = [package for package, found in versions(server.PACKAGES).items() if found is None]
        if missing:
            # The older Djangos' images carry only the servers of their time (docs/versions.md).
            from ..features import runtime

            here = [name for name, module in SERVERS.items() if None not in versions(module.PACKAGES).values()]
            raise ConfigError(
                f"SERVER_MODE={mode} needs {', '.join(missing)}, which this image ({runtime()}) does not have: "
                f"choose one of {', '.join(here)} (docs/versions.md)"
            )
        for name in MAPPED:
            variable = given(name, service, environ)
            if getattr(server, name) is None and variable is not None:
                raw = (os.environ if environ is None else environ)[variable]
                raise ConfigError(
                    f"{variable}={raw!r}: SERVER_MODE={mode} ({server.NAME}) has no {name} knob "
                    f"(it runs {server.CONCURRENCY}): unset {variable}"
                )
        threads = None
        if server.THREADS is not None:
            own = server.THREADS.default
            unset = given("THREADS", service, environ) is None
            threads = own if own is not None and unset else read("THREADS", service, environ)
        return cls(
            service=service,
            mode=mode,
            host=read("BIND_HOST", environ=environ),
            port=read("PORT", environ=environ),
            workers=read("WORKERS", service, environ) if server.WORKERS else 1,
            threads=threads,
        )

    @property
    def server(self) -> str:
        return SERVERS[self.mode].NAME

    @property
    def interface(self) -> str:
        """wsgi or asgi: which of the service's application modules the server runs."""
        return SERVERS[self.mode].INTERFACE

    def command(self) -> list[str]:
        """The server's argv; run with this interpreter so no PATH lookup can pick another."""
        return [sys.executable, "-m", *SERVERS[self.mode].arguments(self)]

    def describe(self) -> dict[str, object]:
        """What /healthz and the startup line report: mode, server, its version and real options."""
        module = SERVERS[self.mode]
        packages = versions(module.PACKAGES)
        return {
            **asdict(self),
            # What the server really runs: one process, or no thread knob at all.
            "workers": self.workers if module.WORKERS else 1,
            "threads": self.threads if module.THREADS else None,
            "server": module.NAME,
            "version": packages[module.PACKAGES[0]],
            "packages": packages,
            "interface": module.INTERFACE,
        }
