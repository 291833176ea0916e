"""--fail-if conditions: "p99<2s", "errors==0", "rps>=100", "error_rate<0.01"."""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

from .units import parse_duration

OPERATORS = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
LATENCY = ("mean", "min", "p50", "p90", "p99", "p999", "max")
COUNTS = ("errors", "timeouts", "requests", "rps", "error_rate", "partial")
_CONDITION = re.compile(r"\s*([a-z0-9_]+)\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*")


@dataclass(frozen=True)
class Threshold:
    metric: str
    op: str
    value: float
    text: str

    def check(self, figures: dict) -> str | None:
        """None when the condition holds, else why not."""
        actual = figures.get(self.metric)
        if actual is None:
            return f"{self.text}: no {self.metric} was measured"
        if not OPERATORS[self.op](actual, self.value):
            return f"{self.text}: {self.metric} was {actual:g}"
        return None


def parse(text: str) -> Threshold:
    match = _CONDITION.fullmatch(text)
    if not match:
        raise ValueError(f"not a condition: {text!r} (examples: 'p99<2s', 'errors==0')")
    metric, op, raw = match.groups()
    if metric in LATENCY:
        value = parse_duration(raw)
    elif metric in COUNTS:
        value = float(raw)
    else:
        raise ValueError(f"unknown metric {metric!r} in {text!r}: use one of {', '.join(LATENCY + COUNTS)}")
    return Threshold(metric, op, value, text.strip())


def failures(thresholds: list[Threshold], figures: dict) -> list[str]:
    return [reason for reason in (t.check(figures) for t in thresholds) if reason]
