"""A campaign's settings: each read once from the environment (make passes what is given
on its command line there), with its default written once, beside the campaign that uses it."""

from __future__ import annotations

import os
import shlex


def words(name: str, default: str) -> tuple[str, ...]:
    """A setting that is loadgen arguments or a list: LAB_SWEEP="--levels 20 --repeat 3"."""
    return tuple(shlex.split(os.environ.get(name, "").strip() or default))


def knob(name: str, default: str) -> str:
    """A stack knob a campaign sets unless the environment already does (BACKEND_CPUS=0)."""
    return os.environ.get(name, "").strip() or default
