"""The report's sections, one module each, in the report's order: what ran first, then the
article, what explains it, and the rest. A section keyed like an experiment (loadgen/
experiments/NAME.py measures, loadgen/sections/NAME.py shows) holds that experiment's
terminal table, its report section and their prose; the others span experiments.

Every module here has `section(latest, folder) -> Section`: its Markdown lines and the
plots it drew (each with the results it was drawn from, for the page's figure settings).
"""

from __future__ import annotations

import importlib
from typing import NamedTuple

from ..plots import Plot
from .order import NAMES


class Section(NamedTuple):
    lines: list[str]
    plots: list[Plot] = []


# The page's order (order.py), each name a module here; an experiment's terminal table is
# ORDER[its name].table.
ORDER = {name: importlib.import_module(f"{__name__}.{name}") for name in NAMES}
