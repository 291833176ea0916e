import json
import logging
import sys

from asynclab import logs, requestid

FIELDS = [
    "time",
    "event",
    "service",
    "mode",
    "pid",
    "thread",
    "request_id",
    "client_id",
    "method",
    "path",
    "query",
    "status",
    "elapsed_ms",
]


def test_an_access_line_has_its_fields_in_order_and_the_views_extras_after():
    line = logs.access_line(
        method="GET",
        path="/api/",
        query="n=3",
        status=200,
        elapsed=0.0123456,
        request_id="abc",
        client_id=True,
        calls={"n": 3},
    )
    assert list(line) == FIELDS + ["calls"]
    assert (line["event"], line["elapsed_ms"], line["calls"]) == ("access", 12.346, {"n": 3})
    assert line["time"].endswith("Z")


def test_long_queries_are_cut():
    line = logs.access_line(
        method="GET", path="/", query="x" * 5000, status=400, elapsed=0, request_id="a", client_id=False
    )
    assert len(line["query"]) == 200


def record(message, exc_info=None, **extra):
    return logging.LogRecord("django.request", logging.ERROR, __file__, 1, message, (), exc_info, **extra)


def test_every_record_is_formatted_as_one_json_line_with_the_request_id():
    token = requestid.current.set("req-7")
    try:
        text = logs.JsonFormatter().format(record("Internal Server Error: /api/"))
    finally:
        requestid.current.reset(token)
    assert "\n" not in text
    line = json.loads(text)
    assert (line["event"], line["level"], line["request_id"], line["message"]) == (
        "log",
        "ERROR",
        "req-7",
        "Internal Server Error: /api/",
    )


def test_tracebacks_stay_inside_the_json_line():
    try:
        raise ValueError("boom")
    except ValueError:
        text = logs.JsonFormatter().format(record("failed", exc_info=sys.exc_info()))
    assert "\n" not in text and "ValueError: boom" in json.loads(text)["exception"]


def test_djangos_per_response_warnings_are_dropped_but_tracebacks_kept():
    keep = logs.OnlyExceptions()
    assert not keep.filter(record("Not Found: /nope"))
    try:
        raise RuntimeError
    except RuntimeError:
        assert keep.filter(record("Internal Server Error: /api/", exc_info=sys.exc_info()))
