"""Chat rooms over WebSocket: the wire format the backend's consumer speaks and loadgen and
the tests write (no Django here: loadgen imports it too).

A member connects to /ws/rooms/<room>/ and is in that room until it leaves. It sends text
frames {"text": ..., "sent": ...}; every member of the room, the sender included, gets
{"room", "text", "sent", "received", "pid"}: `sent` as the sender gave it (its clock, so
the sender's side can time the delivery on one clock), `received` the server's wall-clock
time when the frame arrived, `pid` the worker that took it. A frame the server cannot use
gets {"error", "message"} back and the connection stays open; a frame over the size limit
closes it with 1009, a member sending faster than the rate limit with 1008.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from . import api

PATH = api.CHAT_ROOMS
ROOM = re.compile(r"[A-Za-z0-9._-]{1,64}")
# The fields a member may send: the text, and its own send time.
FIELDS = ("text", "sent")
# WebSocket close codes (RFC 6455): a frame too big to process, and a policy breach.
TOO_BIG = 1009
POLICY = 1008
# An error frame quotes at most this much of what it refuses, so a bad frame cannot make
# the server write more than it read.
QUOTE = 64


class BadFrame(ValueError):
    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message

    def frame(self) -> str:
        return json.dumps({"error": self.error, "message": self.message}, separators=(",", ":"))


def room_path(room: str) -> str:
    return f"{PATH}{room}/"


def valid_room(room: str) -> bool:
    return ROOM.fullmatch(room) is not None


def quoted(text: str) -> str:
    return text if len(text) <= QUOTE else text[:QUOTE] + "..."


def parse(text: str) -> dict[str, Any]:
    """A member's text frame as {"text": str, "sent": float | None}, or BadFrame saying why."""
    try:
        message = json.loads(text)
    except ValueError:
        raise BadFrame("not_json", f'a frame is a JSON object like {{"text": "hi"}}; got {quoted(text)!r}') from None
    if not isinstance(message, dict):
        raise BadFrame("not_an_object", f"a frame is a JSON object, not {type(message).__name__}")
    unknown = [name for name in message if name not in FIELDS]
    if unknown:
        raise BadFrame("unknown_field", f"{quoted(unknown[0])!r} is not a field; a frame has {', '.join(FIELDS)}")
    if not isinstance(message.get("text"), str):
        raise BadFrame("bad_text", "`text` is required and must be a string")
    sent = message.get("sent")
    # bool is an int in Python, and NaN or infinity would make every latency meaningless.
    if sent is not None and (isinstance(sent, bool) or not isinstance(sent, (int, float)) or not math.isfinite(sent)):
        raise BadFrame("bad_sent", "`sent` must be a finite number (seconds since the epoch) or absent")
    return {"text": message["text"], "sent": None if sent is None else float(sent)}


def frame(text: str, sent: float | None = None) -> str:
    """What a member sends."""
    return json.dumps({"text": text, "sent": sent} if sent is not None else {"text": text}, separators=(",", ":"))
