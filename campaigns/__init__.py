"""The lab's campaigns: each a module declaring its cells (stack knobs and the loadgen
commands run against them) as data, run by campaigns/stack.py. `python -m campaigns NAME`
(`make NAME`) runs one; `--dry-run` prints the commands it would run."""

from __future__ import annotations

from . import lab

# By name, as `make NAME` and `python -m campaigns NAME` call them.
CAMPAIGNS = {
    "lab": lab,
}
