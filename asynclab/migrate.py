"""`python -m asynclab.migrate SERVICE`: bring a service's database up to date, once.

asynclab/entrypoint.py runs it in a child process before the server starts any worker: so several
workers never race to create or seed a database, and the server itself never imports
Django before it forks. It waits up to DB_WAIT seconds for the database to accept
connections (PostgreSQL may still be starting) and prints one JSON line. migrate is
idempotent: a database that is up to date is left alone.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time

from .knobs import read


def main(argv: list[str]) -> int:
    service = argv[0]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"{service}.settings")
    import django
    from django.core.management import call_command
    from django.db import OperationalError, connection

    django.setup()
    wait = read("DB_WAIT")
    start = time.monotonic()
    while True:
        try:
            connection.ensure_connection()
            break
        except OperationalError as exc:
            if time.monotonic() - start >= wait:
                print(f"asynclab: {service}: database not reachable after {wait:g} s (DB_WAIT): {exc}", file=sys.stderr)
                return 1
            time.sleep(0.5)
    waited = time.monotonic() - start
    out = io.StringIO()
    call_command("migrate", interactive=False, verbosity=1, stdout=out)
    applied = [
        line.split()[1].rstrip(".") for line in out.getvalue().splitlines() if line.strip().startswith("Applying ")
    ]
    connection.close()
    print(
        json.dumps(
            {
                "event": "migrate",
                "service": service,
                "engine": connection.vendor,
                "database": str(connection.settings_dict["NAME"]),
                "applied": applied,
                "waited_s": round(waited, 3),
                "seconds": round(time.monotonic() - start, 3),
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
