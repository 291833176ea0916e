"""How the lab ranks measurements by throughput without flattering any: a measurement whose
requests failed never ranks above a clean one, and one the machine's neighbours disturbed
is not ranked at all. Each row says why it stands where it does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from . import display

T = TypeVar("T")


def standing(figures: dict) -> str:
    """'clean', 'errors' (some requests failed) or 'disturbed' (neighbours took the cores)."""
    if figures.get("disturbed"):
        return "disturbed"
    return "errors" if figures.get("errors") else "clean"


def ranked(items: Sequence[T], figures: Callable[[T], dict], rate: Callable[[T], float | None]) -> list[tuple]:
    """(rank or None, item, note) for each item: the clean ones by throughput, then those
    with errors after them all, then the disturbed ones, unranked."""
    groups = {"clean": [], "errors": [], "disturbed": []}
    for item in items:
        groups[standing(figures(item) or {})].append(item)
    out, place = [], 0
    for group in ("clean", "errors"):
        for item in sorted(groups[group], key=lambda i: -(rate(i) or 0.0)):
            place += 1
            note = "" if group == "clean" else f"ranked after every clean one: {display.errors(figures(item))} errors"
            out.append((place, item, note))
    for item in sorted(groups["disturbed"], key=lambda i: -(rate(i) or 0.0)):
        out.append((None, item, "not ranked: the host was busy with other work (neighbours)"))
    return out
