"""`python -m asynclab.servers`: print docs/servers.md's WORKERS/THREADS table from the modules."""

from . import table

print(table(), end="")
