"""The article's slow API view, in its sync and its async form; and the same wait spent
in a database, reached by a sync view, an async view and the sync_to_async adapter.

The first two wait `delay` seconds, the sync one blocking its thread with time.sleep and
the async one yielding its event loop with asyncio.sleep: the only difference the lab
measures.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from dataclasses import dataclass

import psycopg
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, connection

from asynclab.features import requires
from asynclab.http import ApiResponse, json_error
from asynclab.query import Query, endpoint

from . import database, faults
from .database import SEED_ROWS
from .models import Item, Sleep


@dataclass(frozen=True)
class ApiParams:
    task_id: str | None
    delay: float
    faults: faults.Faults

    def fault(self) -> tuple[str | None, float]:
        """(the fault this call gets, if any; how long it waits)."""
        fault = self.faults.pick(self.task_id)
        wait = faults.hang_for() if fault == "hang" else self.delay + self.faults.extra_delay()
        return fault, wait


def parse(query: Query) -> ApiParams:
    return ApiParams(
        task_id=query.token("task_id"),
        delay=query.number("delay", settings.BACKEND_DELAY, 0, settings.BACKEND_MAX_DELAY),
        faults=faults.parse(query),
    )


def payload(message: str, params: ApiParams) -> ApiResponse:
    data = {"message": message}
    if params.task_id is not None:
        data["task_id"] = params.task_id
    return ApiResponse(data)


@endpoint(parse)
def sync_api(request, params: ApiParams):
    fault, wait = params.fault()
    time.sleep(wait)
    return faults.response(fault) if fault and fault != "hang" else payload("Hello World!", params)


@endpoint(parse)
async def async_api(request, params: ApiParams):
    fault, wait = params.fault()
    await asyncio.sleep(wait)
    return faults.response(fault) if fault and fault != "hang" else payload("Hello Async World!", params)


# --- The database endpoints: the same three queries, reached three ways ----------------
# /api/db/ (sync view, sync ORM), /api/db/async/ (async view, async ORM API) and
# /api/db/adapter/ (async view, the sync ORM function through sync_to_async). The delay is
# spent in the database (backend/models.py: Sleep), so every wait holds a connection.


@dataclass(frozen=True)
class DbParams:
    task_id: str | None
    delay: float
    rows: int
    thread_sensitive: bool


def parse_db(query: Query) -> DbParams:
    return DbParams(
        task_id=query.token("task_id"),
        delay=query.number("delay", settings.BACKEND_DELAY, 0, settings.BACKEND_MAX_DELAY),
        rows=query.integer("rows", 10, 1, SEED_ROWS),
        thread_sensitive=query.boolean("thread_sensitive", True),
    )


def read_items(delay: float, rows: int) -> dict:
    """The sync ORM work of /api/db/ and /api/db/adapter/: count, list, then wait in SQL."""
    need_database()
    count = Item.objects.count()
    items = list(Item.objects.all()[:rows])
    if not items:
        raise EmptyDatabase
    slept = Item.objects.annotate(slept=Sleep(delay)).values_list("slept", flat=True).get(pk=items[0].pk)
    return {
        "count": count,
        "items": [item.as_dict() for item in items],
        "slept": slept,
        "thread": threading.current_thread().name,
        "connection": connection.asynclab_serial,
    }


async def aread_items(delay: float, rows: int) -> dict:
    """The same work with the async ORM API (which runs each query on a thread)."""
    need_database()
    count = await Item.objects.acount()
    items = [item async for item in Item.objects.all()[:rows]]
    if not items:
        raise EmptyDatabase
    slept = await Item.objects.annotate(slept=Sleep(delay)).values_list("slept", flat=True).aget(pk=items[0].pk)
    return {"count": count, "items": [item.as_dict() for item in items], "slept": slept}


class EmptyDatabase(Exception):
    """The table has no rows: the seed migration has not run on this database."""


class NoDatabase(Exception):
    """DB=none: the service runs without a database."""


# sqlite, postgres, or None with DB=none: settings do not change while the server runs.
ENGINE = database.engine(settings.DATABASES)


def need_database() -> None:
    if ENGINE is None:
        raise NoDatabase


def db_payload(view: str, params: DbParams, result: dict, elapsed: float) -> ApiResponse:
    data = {"view": view, "engine": ENGINE, "delay": params.delay, **result, "db_elapsed": round(elapsed, 6)}
    if params.task_id is not None:
        data["task_id"] = params.task_id
    response = ApiResponse(data)
    response.timings = {"db": elapsed}
    return response


def db_error(exc: Exception) -> ApiResponse:
    """A database that is down, full or unseeded is the backend being unavailable: 503."""
    if isinstance(exc, NoDatabase):
        return json_error(503, "no_database", "this backend runs with DB=none")
    if isinstance(exc, EmptyDatabase):
        return json_error(503, "database_empty", "no rows: the seed migration has not run")
    first_line = (str(exc).strip().splitlines() or [""])[0][:200]
    # Django re-raises the driver's error as its own: name both (OperationalError (PoolTimeout)).
    name, cause = type(exc).__name__, exc.__cause__
    if cause is not None and type(cause).__name__ != name:
        name += f" ({type(cause).__name__})"
    return json_error(503, "database_error", f"{name}: {first_line}")


@endpoint(parse_db)
def sync_db(request, params: DbParams):
    start = time.perf_counter()
    try:
        result = read_items(params.delay, params.rows)
    except (DatabaseError, EmptyDatabase, NoDatabase) as exc:
        return db_error(exc)
    return db_payload("sync", params, result, time.perf_counter() - start)


@requires("async-orm")
@endpoint(parse_db)
async def async_db(request, params: DbParams):
    start = time.perf_counter()
    try:
        result = await aread_items(params.delay, params.rows)
    except (DatabaseError, EmptyDatabase, NoDatabase) as exc:
        return db_error(exc)
    return db_payload("async", params, result, time.perf_counter() - start)


@endpoint(parse_db)
async def adapter_db(request, params: DbParams):
    """thread_sensitive=true runs read_items on the thread this request's sync code uses
    (so its connection is the one Django closes when the request ends); false runs it on
    the event loop's default executor, whose threads keep their connections open."""
    start = time.perf_counter()
    try:
        need_database()
        request_thread = await sync_to_async(lambda: threading.current_thread().name)()
        result = await sync_to_async(read_items, thread_sensitive=params.thread_sensitive)(params.delay, params.rows)
    except (DatabaseError, EmptyDatabase, NoDatabase) as exc:
        return db_error(exc)
    result.update(thread_sensitive=params.thread_sensitive, request_thread=request_thread)
    return db_payload("adapter", params, result, time.perf_counter() - start)


@endpoint(lambda query: None)
def database_stats(request, params):
    """GET /database: the engine, this worker's pool, and (PostgreSQL) every open connection
    to the lab's database as PostgreSQL itself reports them, except this probe's own."""
    if ENGINE is None:
        return db_error(NoDatabase())
    config = settings.DATABASES["default"]
    data = {
        "engine": ENGINE,
        "conn_max_age": config["CONN_MAX_AGE"],
        "pool": config.get("OPTIONS", {}).get("pool") or None,
        "connections": None,
        "pool_worker": None,
    }
    if ENGINE == "postgres":
        try:
            data["connections"] = postgres_connections(config)
        except (DatabaseError, psycopg.Error) as exc:
            return db_error(exc)
        pool = getattr(connection, "pool", None)
        if pool is not None:
            data["pool_worker"] = {"pid": os.getpid(), **pool.get_stats()}
    return ApiResponse(data)


def postgres_connections(config: dict) -> dict:
    """Client connections to the lab's database by state, counted on a connection of the
    probe's own, outside Django and its pool: it must answer when every pooled connection is
    taken, or lost."""
    with psycopg.connect(
        host=config["HOST"],
        port=config["PORT"],
        dbname=config["NAME"],
        user=config["USER"],
        password=config["PASSWORD"],
        connect_timeout=3,
        application_name="asynclab-probe",
    ) as probe:
        by_state = dict(
            probe.execute(
                "SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND backend_type = 'client backend'"
                " AND pid <> pg_backend_pid() GROUP BY 1"
            ).fetchall()
        )
        limit = int(probe.execute("SHOW max_connections").fetchone()[0])
    return {"total": sum(by_state.values()), "by_state": by_state, "max": limit}
