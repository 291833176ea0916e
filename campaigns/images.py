"""`make images`: the services' image of every Django version, then of every PYTHON, each by
`make build` (its wheels and base as make's file targets), in the knobs' order: the lists
are the DJANGO and PYTHON knobs' choices, not copies. The first build that fails stops the
rest, with its status."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

from asynclab.knobs import KNOBS


def builds() -> list[str]:
    """Each build's knob, as `make build` takes it."""
    return [f"DJANGO={version}" for version in KNOBS["DJANGO"].allowed()] + [
        f"PYTHON={python}" for python in KNOBS["PYTHON"].allowed()
    ]


def main() -> int:
    # make's own path and flags (MAKEFLAGS in the environment): `make -n images` stays a dry run.
    make = shlex.split(os.environ.get("MAKE", "make"))
    for knob in builds():
        status = subprocess.run([*make, "--no-print-directory", "build", knob]).returncode
        if status:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
