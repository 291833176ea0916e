"""Django's per-request database receivers, and the knob that detaches them (DB_SIGNALS).

django.db connects reset_queries and close_old_connections to request_started (and the
latter to request_finished) in every project, with or without a database. Under ASGI,
Signal.asend runs sync receivers through sync_to_async, and Django gives each request
its own thread-sensitive context: so request_started alone makes every request start a
thread and keep it for its whole life. Measured here on uvicorn with 200 async requests
of 1 s in flight: 205 threads with the receivers, 5 without. The lab has no database, so
by default (auto) it detaches them; `on` keeps Django as shipped, for comparison.
"""

from __future__ import annotations

CHOICES = ("auto", "on", "off")
# What apply() did in this process (on|off), for /healthz; None before Django is ready.
applied: str | None = None


DUMMY = "django.db.backends.dummy"


def has_database(databases: dict) -> bool:
    """Whether DATABASES names a real one: Django fills an empty setting in with its dummy."""
    return any(config.get("ENGINE", DUMMY) != DUMMY for config in databases.values())


def apply(choice: str, databases: dict) -> str:
    """Detach the receivers when asked (or, for auto, when there is no database); returns on|off."""
    global applied
    databases = databases if has_database(databases) else {}
    from django.core import signals
    from django.db import close_old_connections, reset_queries

    if choice == "off" and databases:
        raise ValueError("DB_SIGNALS=off needs DATABASES to be empty: the receivers close stale connections")
    if choice == "on" or (choice == "auto" and databases):
        applied = "on"
        return applied
    signals.request_started.disconnect(reset_queries)
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    applied = "off"
    return applied


def lean(django31_threads: bool) -> list[str]:
    """LEAN=true, under ASGI: detach reset_queries and close_old_connections from
    request_started (request_finished keeps close_old_connections). Django's ASGI handler
    runs them on the thread it has just started for the request, which has opened no
    connection yet, so they never find one: all they do is start that thread early. With
    DJANGO31_THREADS every request runs on one long-lived thread whose connections they do
    find, so they stay. Returns the receivers detached."""
    from django.core import signals
    from django.db import close_old_connections, reset_queries

    if django31_threads:
        return []
    receivers = (reset_queries, close_old_connections)
    return [receiver.__name__ for receiver in receivers if signals.request_started.disconnect(receiver)]
