"""The one written form of the lab's query values, shared by the services' parser and by
everything that writes a query (the gateway's calls, loadgen): no Django here.

ASCII digits only, no sign, no leading zero, no exponent, no space, no underscore; a
decimal has at most one point, with digits on both sides. Booleans are `true` or `false`.
So `+5`, ` 5`, `1_0`, `05`, `5.`, `.5`, `1e1` and `٥` are all refused, not read as numbers.
"""

from __future__ import annotations

import re
from decimal import Decimal

INTEGER = re.compile(r"0|[1-9][0-9]*")
DECIMAL = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]+)?")
BOOLEANS = {"true": True, "false": False}


def written(value: float) -> str:
    """`value` as the grammar writes a decimal: 0.00001, never 1e-05; 2, not 2.0."""
    text = format(Decimal(repr(float(value))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
