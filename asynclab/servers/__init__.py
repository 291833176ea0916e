"""Server modes: one small module per server, and a registry keyed by SERVER_MODE.

Switching SERVER_MODE changes how a service is served and nothing else: the same Django
project runs under gunicorn (WSGI), uvicorn (ASGI) or Django's development server.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from typing import Protocol

from ..config import ConfigError
from ..knobs import read
from . import asgi, runserver, wsgi


class Server(Protocol):
    """What a server-mode module provides: the server's name and its argv for a ServerConfig."""

    NAME: str

    def arguments(self, cfg: ServerConfig) -> list[str]: ...


SERVERS: dict[str, Server] = {"wsgi": wsgi, "asgi": asgi, "runserver": runserver}
SERVICES = ("backend", "gateway")


@dataclass(frozen=True)
class ServerConfig:
    service: str
    mode: str
    host: str
    port: int
    workers: int
    threads: int

    @classmethod
    def from_env(cls, service: str) -> ServerConfig:
        if service not in SERVICES:
            raise ConfigError(f"unknown service {service!r}: choose one of {', '.join(SERVICES)}")
        mode = read("SERVER_MODE", service).strip().lower()
        if mode not in SERVERS:
            raise ConfigError(f"unknown SERVER_MODE {mode!r} for {service}: choose one of {', '.join(sorted(SERVERS))}")
        return cls(
            service=service,
            mode=mode,
            host=read("BIND_HOST"),
            port=read("PORT"),
            workers=read("WORKERS", service),
            threads=read("THREADS", service),
        )

    @property
    def server(self) -> str:
        return SERVERS[self.mode].NAME

    def command(self) -> list[str]:
        """The server's argv; run with this interpreter so no PATH lookup can pick another."""
        return [sys.executable, "-m", *SERVERS[self.mode].arguments(self)]

    def describe(self) -> dict[str, object]:
        """What /healthz and the startup line report: mode, server and its real options."""
        described: dict[str, object] = {**asdict(self), "server": self.server}
        if self.mode == "asgi":
            # uvicorn has no thread knob: sync code runs on asgiref's threads instead.
            described["threads"] = None
        elif self.mode == "runserver":
            # Django's development server is one process with a thread per connection.
            described.update(workers=1, threads=None)
        return described
