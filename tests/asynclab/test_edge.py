"""The edge, through live servers in every mode over raw sockets: Host, the size limits the
lab answers in JSON, the ones the server keeps, and one strict query grammar."""

import json
import socket

import pytest

from asynclab.edge import MAX_HEADER_BYTES, MAX_HEADERS, MAX_TARGET, server_limits
from asynclab.servers import SERVERS
from harness.live import LiveServer, raw_exchange, raw_get

# The modes whose requests gunicorn's own parser reads (its limits and its HTML errors).
GUNICORN_PARSER = ("wsgi", "gunicorn-sync", "gevent")
# Header lines a server's parser takes at most where that is below server_limits()'s and
# no option raises it (docs/servers.md): hyper's (granian) and http.server's fixed 100.
OWN_FIELDS = {"granian": 100, "granian-wsgi": 100, "runserver": 100}


@pytest.fixture(scope="module", params=list(SERVERS))
def stack(request):
    backend = LiveServer("backend", request.param).start()
    gateway = LiveServer("gateway", request.param, BACKEND_URL=backend.url).start()
    yield request.param, backend, gateway
    gateway.stop()
    backend.stop()


def exchange(server, head: bytes) -> tuple[int, str, bytes]:
    return raw_exchange(server.port, head)


def request(server, target: str, host: str = "127.0.0.1", headers: bytes = b"") -> tuple[int, str, bytes]:
    return raw_get(server.port, target, host, headers)


def error_of(answer) -> str:
    status, content_type, body = answer
    assert content_type.startswith("application/json"), (status, content_type, body[:200])
    return json.loads(body)["error"]


# --- Host ---------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "gateway.evil"])
def test_a_host_not_allowed_gets_400_json_and_no_fan_out(stack, host):
    mode, backend, gateway = stack
    before = backend.log().count('"event": "access"')
    answer = request(gateway, "/api/aggregated/?n=2&delay=0", host=host)
    assert (answer[0], error_of(answer)) == (400, "disallowed_host")
    assert json.loads(answer[2])["host"] == host
    assert backend.log().count('"event": "access"') == before, "the gateway called the backend"
    answer = request(backend, "/api/?delay=0", host=host)
    assert (answer[0], error_of(answer)) == (400, "disallowed_host")


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:8000", "[::1]:8000", "backend", "gateway:8000"])
def test_the_lab_s_own_hosts_are_served(stack, host):
    _, backend, gateway = stack
    assert request(gateway, "/api/aggregated/?n=1&delay=0", host=host)[0] == 200
    assert request(backend, "/api/?delay=0", host=host)[0] == 200


# --- Limits the lab answers in JSON, the same in both modes -------------------------------


def test_a_target_past_the_lab_s_limit_is_its_json_414_up_to_the_server_s(stack):
    _, backend, _ = stack
    base = "/api/?delay=0&task_id="
    assert error_of(request(backend, base + "x" * (MAX_TARGET - len(base)))) == "bad_parameter"  # the view's turn
    for length in (MAX_TARGET + 1, server_limits()["request_line"] - 40):
        answer = request(backend, base + "x" * (length - len(base)))
        assert (answer[0], error_of(answer)) == (414, "uri_too_long"), length


@pytest.mark.parametrize("size", [MAX_HEADER_BYTES + 1, server_limits()["header_field_bytes"] - 100])
def test_one_header_past_the_lab_s_limit_is_its_json_431(stack, size):
    _, backend, _ = stack
    answer = request(backend, "/api/?delay=0", headers=b"X-Pad: " + b"y" * size + b"\r\n")
    assert (answer[0], error_of(answer)) == (431, "headers_too_large")


@pytest.mark.parametrize("below", [None, 4])
def test_too_many_header_fields_are_the_lab_s_json_431(stack, below):
    mode, backend, _ = stack
    # Just past the lab's limit, and just below the server's own (Host and Connection count).
    count = MAX_HEADERS + 1 if below is None else OWN_FIELDS.get(mode, server_limits()["header_fields"]) - below
    fields = b"".join(b"X-H-%d: 1\r\n" % i for i in range(count))
    answer = request(backend, "/api/?delay=0", headers=fields)
    assert (answer[0], error_of(answer)) == (431, "headers_too_large")


def test_a_head_within_every_limit_is_served(stack):
    _, backend, _ = stack
    fields = b"".join(b"X-H-%d: %s\r\n" % (i, b"y" * 100) for i in range(MAX_HEADERS - 5))
    assert request(backend, "/api/?delay=0", headers=fields)[0] == 200


# --- What stays with the server (docs/edge.md) ---------------------------------------------


def answer_bytes(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def test_a_request_line_the_parser_cannot_read_is_the_server_s_own_400(stack):
    mode, backend, _ = stack
    if mode == "runserver":
        # http.server answers a line it cannot read as HTTP/0.9: an HTML page, no status line.
        assert b"Bad request" in answer_bytes(backend.port, b"NOT HTTP AT ALL\r\n\r\n")
        return
    status, content_type, body = exchange(backend, b"NOT HTTP AT ALL\r\n\r\n")
    assert status == 400
    # Documented, not JSON: gunicorn answers HTML, uvicorn plain text, the others no body.
    if mode in GUNICORN_PARSER:
        assert content_type.startswith("text/html"), content_type
    elif mode in ("asgi", "uvicorn-worker"):
        assert content_type.startswith("text/plain"), content_type
    else:
        assert (content_type, body) == ("", b"")


def test_past_gunicorn_s_own_limit_gunicorn_answers(stack):
    mode, backend, _ = stack
    status, content_type, _ = request(backend, "/api/?task_id=" + "x" * (server_limits()["request_line"] + 10))
    # gunicorn stops at its request-line limit; every other parser takes more, so the lab answers.
    expected = (414, "text/html") if mode in GUNICORN_PARSER else (414, "application/json")
    assert (status, content_type.split(";")[0]) == expected


# --- One strict grammar, on every endpoint of both services -------------------------------

BAD_QUERIES = [
    ("n=2&n=3", "repeated_parameter", "n"),
    ("n=2&delay=0&delay=0", "repeated_parameter", "delay"),
    ("n=2&concurency=2", "unknown_parameter", "concurency"),
    ("N=2", "unknown_parameter", "N"),
    ("n=", "bad_parameter", "n"),
    ("delay=", "bad_parameter", "delay"),
    ("n=+5", "bad_parameter", "n"),
    ("n=%205", "bad_parameter", "n"),
    ("n=1_0", "bad_parameter", "n"),
    ("n=%D9%A5", "bad_parameter", "n"),  # an Arabic-Indic five
    ("n=05", "bad_parameter", "n"),
    ("delay=1e-1", "bad_parameter", "delay"),
    ("delay=.5", "bad_parameter", "delay"),
]


@pytest.mark.parametrize(("query", "error", "parameter"), BAD_QUERIES)
def test_the_gateway_refuses_what_the_grammar_does_not_say(stack, query, error, parameter):
    _, _, gateway = stack
    status, _, body = request(gateway, "/api/aggregated/?" + query)
    data = json.loads(body)
    assert (status, data["error"], data["parameter"]) == (400, error, parameter)
    if error == "unknown_parameter":
        assert data["parameters"] == [
            "n",
            "client",
            "target",
            "delay",
            "timeout",
            "deadline",
            "concurrency",
            "fail",
            "hang",
            "invalid",
            "drop",
            "jitter",
        ]


@pytest.mark.parametrize("path", ["/api/", "/api/async/", "/api/db/", "/api/db/async/", "/api/db/adapter/"])
@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("delay=0&delay=0", "repeated_parameter"),
        ("dealy=0", "unknown_parameter"),
        ("delay=", "bad_parameter"),
        ("delay=%2B1", "bad_parameter"),
    ],
)
def test_the_backend_refuses_it_too(stack, path, query, error):
    _, backend, _ = stack
    status, _, body = request(backend, f"{path}?{query}")
    assert (status, json.loads(body)["error"]) == (400, error)


@pytest.mark.parametrize("path", ["/healthz", "/telemetry", "/database"])
def test_endpoints_without_parameters_refuse_any(stack, path):
    _, backend, _ = stack
    status, _, body = request(backend, path + "?verbose=true")
    assert (status, json.loads(body)["parameters"]) == (400, [])


def test_booleans_are_true_or_false(stack):
    _, backend, _ = stack
    assert request(backend, "/api/db/adapter/?delay=0&thread_sensitive=false")[0] == 200
    status, _, body = request(backend, "/api/db/adapter/?delay=0&thread_sensitive=0")
    assert (status, json.loads(body)["parameter"]) == (400, "thread_sensitive")


# --- Bad requests are the lab's JSON through every server ----------------------------------


@pytest.mark.parametrize(
    ("head", "status", "error"),
    [
        (b"POST /api/?delay=0 HTTP/1.1\r\nContent-Length: 0\r\n", 405, "method_not_allowed"),
        (b"DELETE /api/aggregated/ HTTP/1.1\r\n", 405, "method_not_allowed"),
        (b"GET /api/nope/ HTTP/1.1\r\n", 404, "not_found"),
        (b"GET /api/?delay=abc HTTP/1.1\r\n", 400, "bad_parameter"),
        (b"GET /api/async/?delay=1e999 HTTP/1.1\r\n", 400, "bad_parameter"),
        (b"GET /api/?task_id=%3Cb%3E HTTP/1.1\r\n", 400, "bad_parameter"),
    ],
)
def test_other_methods_unknown_paths_and_bad_values_are_json(stack, head, status, error):
    _, backend, gateway = stack
    server = gateway if b"aggregated" in head else backend
    answer = exchange(server, head + b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert (answer[0], error_of(answer)) == (status, error)
