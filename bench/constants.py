"""Benchmark: what a shared object costs threads without the GIL. Each loop below, compiled
at run time as a module's code is, runs in one thread and then in two at once, on each
PYTHON image (3.14 and 3.14t). Printed per loop: each thread's CPU seconds and the wall time,
one thread and two, and two over one. CPU x is ~1 when the threads share nothing, with the
GIL or without it; wall x is ~2 with the GIL (the threads take turns) and ~1 without it (two
cores). A loop that loads a large int constant from its code shares that constant's
reference count between the threads, and on 3.14t each increment becomes a contended atomic
operation: CPU x several times 1. Why /api/cpu's loop keeps to small, immortal ints
(backend/cpu.py, docs/freethreaded.md).

    .venv/bin/python -m bench.constants [--iterations 3000000]

A benchmark, not a test: it prints, on this machine, and asserts nothing. ~1 min.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from asynclab.knobs import KNOBS

HERE = Path(__file__).resolve().parent
CHILD = HERE / "constants_child.py"


def image(python: str) -> str:
    """The lab's image of PYTHON=python, as make names it (make -s print-django-image)."""
    done = subprocess.run(
        ["make", "-s", "--no-print-directory", "print-django-image", f"PYTHON={python}"],
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.constants", description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=3_000_000, help="loop iterations per thread")
    args = parser.parse_args(argv)
    for python in KNOBS["PYTHON"].allowed():
        name = image(python)
        print(f"== PYTHON={python} ({name})", flush=True)
        done = subprocess.run(
            ["docker", "run", "--rm", "--network", "none", "--entrypoint", "python"]
            + ["-v", f"{CHILD}:/tmp/constants_child.py:ro", name, "/tmp/constants_child.py", str(args.iterations)],
            timeout=600,
        )
        if done.returncode:
            return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
