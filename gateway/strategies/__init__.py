"""Fan-out strategies, one module each, keyed by the name the gateway reports (the names
are asynclab/api.py's STRATEGIES). Each module is a Strategy.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..calls import Call, Outcome
from . import bridged, gather, sequential, threadpool

if TYPE_CHECKING:
    from ..aggregation import Plan


@runtime_checkable
class Strategy(Protocol):
    NAME: str
    MESSAGE: str  # the article's greeting
    CONCURRENT: bool  # whether its calls overlap
    KIND: str  # the HTTP clients it needs: async or sync

    def fetch(self, calls: list[Call], plan: Plan) -> list[Outcome] | Awaitable[list[Outcome]]:
        """One Outcome per call, in call order, each call within plan.call(); gather's is a
        coroutine function."""
        ...


STRATEGIES: dict[str, Strategy] = {module.NAME: module for module in (gather, sequential, threadpool, bridged)}
