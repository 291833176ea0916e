"""`make db`: the db experiment (the ORM, sync_to_async and thread_sensitive against waits
inside SQL) on every database set-up in both modes: SQLite, PostgreSQL, PostgreSQL with
Django's connection pool.

Time (2 cores, warm images): ~16 min.
"""

from __future__ import annotations

from .settings import words
from .stack import Cell

HELP = "the database experiment: SQLite, PostgreSQL, PostgreSQL+pool, under wsgi and asgi (~16 min)"
# Each set-up by name: the DB and DB_POOL knobs it sets.
VARIANTS = {
    "sqlite": {"DB": "sqlite", "DB_POOL": "false"},
    "postgres": {"DB": "postgres", "DB_POOL": "false"},
    "postgres+pool": {"DB": "postgres", "DB_POOL": "true"},
}
MODES = ("wsgi", "asgi")
ARGS = "--levels 1,10,40 --duration 5s --warmup 1s"


def cells() -> list[Cell]:
    args = words("LAB_DB", ARGS)
    found = []
    for variant in words("DB_VARIANTS", " ".join(VARIANTS)):
        if variant not in VARIANTS:
            raise SystemExit(f"make db: unknown variant {variant!r}: choose from {', '.join(VARIANTS)}")
        for mode in MODES:
            found.append(Cell({"SERVER_MODE": mode, **VARIANTS[variant]}, (("db", *args),), label=f"{variant}, {mode}"))
    return found
