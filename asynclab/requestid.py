"""Request ids: one per client request, carried on every hop so the logs can be joined.

The gateway takes the client's X-Request-ID when it is safe to log and pass on (at most
64 characters of A-Z a-z 0-9 . _ : -), makes one otherwise, and sends `<id>.<index>` on
each backend call; the backend accepts that suffix on top of the 64 characters.
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar

HEADER = "X-Request-ID"
MAX_LENGTH = 64
# A call id is a request id plus the gateway's ".<index>" (fan-out is at most 1000 calls).
VALID = re.compile(rf"[A-Za-z0-9._:-]{{1,{MAX_LENGTH}}}(?:\.[0-9]{{1,4}})?")

# The id of the request being handled, for every log line written while handling it.
current: ContextVar[str | None] = ContextVar("request_id", default=None)


def new() -> str:
    # 16 hex digits, 64 random bits: what uuid4().hex[:16] gave (60 of them), at a fifth of the CPU.
    return os.urandom(8).hex()


def accept(value: str | None) -> tuple[str, bool]:
    """(the id to use, whether it is the client's): a missing or unsafe id is replaced."""
    if value and VALID.fullmatch(value):
        return value, True
    return new(), False


def call_id(request_id: str, index: int) -> str:
    return f"{request_id}.{index}"
