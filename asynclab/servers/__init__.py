"""Server modes: one small module per server, and a registry keyed by SERVER_MODE.

Switching SERVER_MODE changes how a service is served and nothing else: the same Django
project runs under gunicorn (WSGI), uvicorn (ASGI) or Django's development server.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from types import ModuleType

from ..config import ConfigError, env, service_env
from . import asgi, runserver, wsgi

SERVERS: dict[str, ModuleType] = {"wsgi": wsgi, "asgi": asgi, "runserver": runserver}
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
        mode = service_env(service, "SERVER_MODE", "wsgi").strip().lower()
        if mode not in SERVERS:
            raise ConfigError(
                f"unknown SERVER_MODE {mode!r} for {service}: choose one of {', '.join(sorted(SERVERS))}"
            )
        return cls(
            service=service,
            mode=mode,
            host=env("BIND_HOST", "0.0.0.0"),
            port=env("PORT", 8000, low=1, high=65535),
            workers=service_env(service, "WORKERS", 1, low=1, high=64),
            threads=service_env(service, "THREADS", 10, low=1, high=1000),
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
