"""The lab's experiments, one module each, by command name.

Each module holds its experiment whole: `HELP` and `options(parser)` for the CLI,
`command(args, lab)` that runs it from parsed arguments, `run(lab, ...)` the coroutine
itself, `table(result)` for the terminal and `section(latest, folder)` for report.md.
"""

from __future__ import annotations

from . import (
    article,
    clients,
    db,
    faults,
    freethreaded,
    resources,
    run,
    servers,
    slowclients,
    soak,
    streams,
    sweep,
    versions,
)

# In the order `loadgen --help` lists them.
EXPERIMENTS = {
    "run": run,
    "article": article,
    "sweep": sweep,
    "resources": resources,
    "db": db,
    "faults": faults,
    "soak": soak,
    "clients": clients,
    "servers": servers,
    "streams": streams,
    "slowclients": slowclients,
    "versions": versions,
    "freethreaded": freethreaded,
}
