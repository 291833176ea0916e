"""`make versions`: the article's table and the versions experiment (the backend's CPU per
request, threads per async request in flight) on every Django the DJANGO knob offers, in
asgi and wsgi, then the default Django with DJANGO31_THREADS=true (the emulation the real
3.1 checks), and the report's side-by-side section (docs/versions.md). loadgen keeps the
default image throughout.

Time (2 cores, warm images): ~14 min.
"""

from __future__ import annotations

from asynclab.knobs import KNOBS

from .settings import words
from .stack import Cell

HELP = "the article's table, CPU and threads per request on every DJANGO, asgi and wsgi, side by side (~14 min)"
MODES = ("asgi", "wsgi")
# The sequential cells are serial on every version by construction (make lab has them).
ARTICLE = "--repeat 1 --strategies gather,threadpool"
ARGS = "--level 20 --repeat 1 --duration 2s --warmup 0.5s"


def cells() -> list[Cell]:
    article, args = words("VERSIONS_ARTICLE", ARTICLE), words("VERSIONS_ARGS", ARGS)
    runs = (("article", *article), ("versions", *args))
    django = KNOBS["DJANGO"]
    found = [
        Cell({"DJANGO": version, "SERVER_MODE": mode}, runs, label=f"Django {version}, {mode}")
        for version in words("VERSIONS_DJANGO", " ".join(django.choices))
        for mode in words("VERSIONS_MODES", " ".join(MODES))
    ]
    emulated = {"DJANGO": django.default, "SERVER_MODE": "asgi", "DJANGO31_THREADS": "true"}
    return [*found, Cell(emulated, runs, label=f"Django {django.default} with DJANGO31_THREADS, asgi")]
