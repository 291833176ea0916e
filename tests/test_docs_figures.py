"""The figures the hand-written docs keep are designed ones (a limit, a default, a target)
and each is read here from the code that holds it, so a change to the code fails until the
doc says the same. Measured figures are not kept in these docs at all: they come from a
result file (docs/templates/, tests/test_docs.py) or from the command the doc names.

Each test reads the doc's sentence or table row and the constant it states."""

import re
from pathlib import Path

import pytest

from asynclab import telemetry

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def doc(name: str) -> str:
    # Joined lines: a sentence the doc wraps is still one string to match.
    return " ".join((DOCS / name).read_text().split())


def row(name: str, first_cell: str) -> list[str]:
    """The cells of the table row in docs/NAME whose first cell is `first_cell`."""
    for line in (DOCS / name).read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_cell:
            return cells
    raise AssertionError(f"docs/{name} has no row {first_cell!r}")


def number(text: str) -> float:
    """`4,096` and `0.25` as written in the docs."""
    return float(text.replace(",", ""))


# docs/asgi-tax.md


def test_asgi_tax_states_the_targets_the_bench_prints():
    from bench import tax_printed

    text = doc("asgi-tax.md")
    assert f"lab ≤ {tax_printed.LAB_OVER_BARE} × bare, lean ≤ {tax_printed.LEAN_OVER_BARE} × bare" in text
    assert f"Meeting {tax_printed.LAB_OVER_BARE} would mean" in text


def test_asgi_tax_states_the_benchs_defaults():
    source = (ROOT / "bench" / "asgi_tax.py").read_text()
    defaults = {name: int(value) for name, value in re.findall(r'"--(\w+)", type=int, default=(\d+)', source)}
    per_view = int(re.search(r"def count_hops\(mode: str, per_view: int = (\d+)\)", source).group(1))
    text = doc("asgi-tax.md")
    assert f"aiohttp drives {defaults['requests']} requests per round" in text
    assert f"over {defaults['concurrency']} keep-alive connections" in text
    assert f"the median of {defaults['rounds']} rounds" in text
    assert f"sends {per_view} sequential requests to each view" in text
    assert f"divides the change in the counts by {per_view}" in text
    # A clock tick of 10 ms spread over one round's requests: the resolution of a figure.
    tick_us = float(re.search(r"One clock tick \(10 ms\) is ([\d.]+) µs per request", text).group(1))
    assert tick_us == pytest.approx(10_000 / defaults["requests"])


def test_asgi_tax_states_the_telemetry_periods_the_code_has():
    text = doc("asgi-tax.md")
    assert f"the sampler every {telemetry.SAMPLE * 1000:.0f} ms, the publish every {telemetry.PUBLISH} s" in text
