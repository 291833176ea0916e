"""The lab's campaigns: each a module declaring its cells (stack knobs and the loadgen
commands run against them) as data, run by campaigns/stack.py. `python -m campaigns NAME`
(`make NAME`) runs one; `--dry-run` prints the commands it would run."""

from __future__ import annotations

from . import (
    capacity,
    chat,
    chat_5k,
    db,
    edge_nginx,
    faults,
    freethreaded,
    lab,
    pinning,
    reference,
    servers,
    streams,
    streams_5k,
    versions,
)

# By name, as `make NAME` and `python -m campaigns NAME` call them.
CAMPAIGNS = {
    "lab": lab,
    "reference": reference,
    "servers": servers,
    "versions": versions,
    "streams": streams,
    "streams-5k": streams_5k,
    "chat": chat,
    "chat-5k": chat_5k,
    "edge-nginx": edge_nginx,
    "db": db,
    "pinning": pinning,
    "faults": faults,
    "freethreaded": freethreaded,
    "capacity": capacity,
}
