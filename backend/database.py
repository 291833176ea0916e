"""The backend's database: which engine, how to reach it, and SQL that waits.

DB=sqlite (the default) is a file in the container's /tmp, migrated and seeded when the
server starts (asynclab/migrate.py), before any worker exists, so several workers never
race to create it. DB=postgres reaches the compose service `postgres` with the settings
below; DB_POOL turns on Django's psycopg pool (one pool per worker process).

The delay of the /api/db/ endpoints is spent *inside* the database: PostgreSQL's
pg_sleep(), and on SQLite, which has no sleep, a SQL function `asynclab_sleep(seconds)`
that this module registers on every SQLite connection. SQLite runs it inside the
statement, in the driver's C code, so the thread and the connection are held exactly as
a slow query holds them. The seconds are always a bound query parameter.
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path
from typing import Any

from asynclab.config import ConfigError
from asynclab.knobs import read

ENGINES = {"sqlite": "django.db.backends.sqlite3", "postgres": "django.db.backends.postgresql"}
# DB=none: no database at all, as the lab's backend was before the /api/db/ endpoints: those
# answer 503, and Django's per-request database receivers can be detached (DB_SIGNALS=auto).
CHOICES = (*ENGINES, "none")
SLEEP_FUNCTION = "asynclab_sleep"
# Rows migration 0002 seeds; the most ?rows= may ask for.
SEED_ROWS = 100


def password(environ: dict[str, str] | None = None) -> str:
    """POSTGRES_PASSWORD_FILE (a compose secret) if set, else POSTGRES_PASSWORD."""
    environ = os.environ if environ is None else environ
    path = read("POSTGRES_PASSWORD_FILE", environ=environ)
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"POSTGRES_PASSWORD_FILE={path!r}: {exc.strerror}") from None
    return read("POSTGRES_PASSWORD", environ=environ)


def databases(environ: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """Django's DATABASES for the engine DB names, every setting read and checked here."""
    environ = os.environ if environ is None else environ
    engine = read("DB", environ=environ)
    if engine == "none":
        return {}
    # 0 = a connection per request, closed when it ends (what Django advises under ASGI).
    max_age = read("DB_CONN_MAX_AGE", environ=environ)
    pool = read("DB_POOL", environ=environ)
    if engine == "sqlite":
        if pool:
            raise ConfigError("DB_POOL=true: Django pools PostgreSQL connections only; use DB=postgres")
        # timeout: seconds a connection waits for SQLite's file lock instead of failing.
        return {
            "default": {
                "ENGINE": ENGINES[engine],
                "NAME": read("DB_PATH", environ=environ),
                "CONN_MAX_AGE": max_age,
                "OPTIONS": {"timeout": 20},
            }
        }
    options: dict[str, Any] = {"connect_timeout": 5}
    if pool:
        if max_age:
            raise ConfigError("DB_POOL=true needs DB_CONN_MAX_AGE=0: a pooled connection goes back to the pool")
        size = read("DB_POOL_MAX_SIZE", environ=environ)
        options["pool"] = {
            "min_size": read("DB_POOL_MIN_SIZE", environ=environ),
            "max_size": size,
            # How long a request waits for a free pooled connection before it gets a 503.
            "timeout": read("DB_POOL_TIMEOUT", environ=environ),
        }
    return {
        "default": {
            "ENGINE": ENGINES[engine],
            "HOST": read("POSTGRES_HOST", environ=environ),
            "PORT": read("POSTGRES_PORT", environ=environ),
            "NAME": read("POSTGRES_DB", environ=environ),
            "USER": read("POSTGRES_USER", environ=environ),
            "PASSWORD": password(environ),
            "CONN_MAX_AGE": max_age,
            "OPTIONS": options,
        }
    }


def engine(databases: dict[str, dict[str, Any]]) -> str | None:
    """sqlite|postgres for a DATABASES setting, None without a database."""
    backend = databases.get("default", {}).get("ENGINE")
    return next((name for name, path in ENGINES.items() if path == backend), None)


# A number per connection this process opens, so a response can show whether two requests
# (or two calls of one request) used the same connection.
_serials = itertools.count(1)


def _sleep(seconds: float | None) -> int:
    time.sleep(max(0.0, float(seconds or 0)))
    return 1


def connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Set up each new connection: a serial number, and SQLite's sleep function."""
    connection.asynclab_serial = f"{os.getpid()}:{next(_serials)}"
    if connection.vendor == "sqlite":
        connection.connection.create_function(SLEEP_FUNCTION, 1, _sleep)
