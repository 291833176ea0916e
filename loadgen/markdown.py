"""The report's one Markdown table form: `| a | b |` rows under a `|---|---|` rule."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def row(cells: Iterable[object]) -> str:
    return "| " + " | ".join(map(str, cells)) + " |"


def table(header: Sequence[str], rows: Iterable[Iterable[object]]) -> list[str]:
    """The table's lines (no blank line around it)."""
    return [row(header), "|" + "---|" * len(header), *map(row, rows)]
