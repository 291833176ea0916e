"""Fan-out strategies, one module each, keyed by the name the gateway reports.

Each module has NAME, MESSAGE (the article's greeting), CONCURRENT (whether its calls
overlap), KIND (the HTTP clients it needs: async or sync) and `fetch(calls, plan)`, which
returns one Outcome per call in call order; gather's fetch is a coroutine function.
"""

from types import ModuleType

from . import bridged, gather, sequential, threadpool

STRATEGIES: dict[str, ModuleType] = {module.NAME: module for module in (gather, sequential, threadpool, bridged)}
