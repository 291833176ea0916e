"""Fan-out strategies, one module each, keyed by the name the gateway reports.

Each module has NAME, MESSAGE (the article's greeting), CONCURRENT (whether its calls
overlap) and `fetch(calls, timeout)` that returns one Outcome per call in call order;
gather's fetch is a coroutine function.
"""

from types import ModuleType

from . import gather, sequential, threadpool

STRATEGIES: dict[str, ModuleType] = {module.NAME: module for module in (gather, sequential, threadpool)}
