"""Property: no client input ever makes a service answer 500, answer in anything but JSON,
or hang. Hypothesis drives every endpoint of both services (the gateway in both modes)
with any method, path, query string and request id, over real sockets."""

import http.client
import json
import time
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asynclab import api
from harness.live import LiveServer

GATEWAY_ENDPOINTS = list(api.STRATEGIES.values())
ENDPOINTS = [*api.BACKEND_VIEWS.values(), *GATEWAY_ENDPOINTS]
PATHS = [*ENDPOINTS, "/healthz", "/telemetry", "/database", "/", "/api", "/admin/", "/api/aggregated/../../etc/passwd"]
# Numbers and booleans that a lenient parser would read, and the strict grammar refuses.
ODD_SPELLINGS = ["+5", "5 ", " 5", "1_0", "05", "5.", ".5", "1e1", "1E-1", "\u0665", "\uff15", "0.5.1", "True", "1.0e0"]
PARAMS = [
    "n",
    "target",
    "delay",
    "timeout",
    "deadline",
    "concurrency",
    "client",
    "task_id",
    "fail",
    "hang",
    "invalid",
    "drop",
    "jitter",
    "url",
    "backend",
    "rows",
    "thread_sensitive",
]
NASTY = [
    "",
    "0",
    "-1",
    "1e309",
    "nan",
    "inf",
    "-inf",
    "1" * 400,
    "0x10",
    "1_000",
    " 1",
    "1.5",
    "100",
    "101",
    "auto",
    "aiohttp",
    "sync",
    "async",
    "http://127.0.0.2:1/",
    "%00",
    "\x00",
    "é",
    "∞",
    "1;2",
    "[]",
    "{}",
    "None",
    *ODD_SPELLINGS,
]
# Every knob is small here, so even the worst input is quick: the property is about the
# answer, and a stuck worker shows as send()'s 10 s socket timeout.
LIMITS = {
    "BACKEND_MAX_DELAY": 0.2,
    "GATEWAY_MAX_TIMEOUT": 1,
    "GATEWAY_MAX_DEADLINE": 1,
    "GATEWAY_MAX_FANOUT": 20,
    "GATEWAY_MAX_CALLS": 1000,
}


@pytest.fixture(scope="module")
def servers():
    backend = LiveServer("backend", "asgi", **LIMITS).start()
    gateways = [LiveServer("gateway", mode, BACKEND_URL=backend.url, **LIMITS).start() for mode in ("wsgi", "asgi")]
    yield [backend, *gateways]
    for server in [*gateways, backend]:
        server.stop()


# Mostly values a parameter could accept, so that the fuzz reaches the fan-out and the
# faults, not only the 400s; the rest anything at all.
plausible = st.one_of(
    st.integers(0, 25).map(str),
    st.floats(0, 1.2).map(lambda f: f"{f:.2f}"),
    st.sampled_from([*api.CLIENT_CHOICES, *api.TARGETS, "true", "false"]),
)
values = st.one_of(
    plausible,
    plausible,
    st.sampled_from(NASTY),
    st.text(max_size=30),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
queries = st.lists(st.tuples(st.one_of(st.sampled_from(PARAMS), st.text(max_size=10)), values), max_size=8)
request_ids = st.one_of(st.none(), st.text(max_size=80), st.sampled_from(["ok-id", "x" * 64, "x" * 65, "a b", "é"]))


def send(server, method, path, query, request_id):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {}
    if request_id is not None:
        # What can go on the wire at all: http.client refuses control characters.
        printable = "".join(c for c in request_id if 32 <= ord(c) < 127 or 160 <= ord(c) < 256)
        headers["X-Request-ID"] = printable
    target = quote(path, safe="/%.") + ("?" + urlencode(query) if query else "")
    started = time.perf_counter()
    try:
        connection.request(method, target, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(), response.getheader("Content-Type", ""), time.perf_counter() - started
    finally:
        connection.close()


# Weighted towards GET on the real endpoints, where the interesting code is.
methods = st.one_of(
    st.just("GET"),
    st.just("GET"),
    st.just("GET"),
    st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]),
)
paths = st.one_of(
    st.sampled_from(ENDPOINTS),
    st.sampled_from(ENDPOINTS),
    st.sampled_from(PATHS),
    st.text(min_size=1, max_size=20).map(lambda t: "/" + t),
)


# Derandomized: CI runs the same 300 cases every time, so a red run is a real regression.
@settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(server=st.integers(0, 2), method=methods, path=paths, query=queries, request_id=request_ids)
def test_no_input_makes_a_500_or_a_non_json_answer_or_a_stuck_worker(servers, server, method, path, query, request_id):
    if server == 0:
        # Straight to the backend, drop= cuts the connection and invalid= answers broken JSON
        # on purpose (that is their job); through the gateway they become listed failures.
        query = [(name, value) for name, value in query if name not in ("drop", "invalid")]
    status, body, content_type, elapsed = send(servers[server], method, path, query, request_id)
    assert status < 500 or status in (502, 503), (status, body[:300])  # 502: all calls failed on purpose
    if method != "HEAD":
        assert content_type.startswith("application/json"), (status, content_type, body[:200])
        assert isinstance(json.loads(body), dict)


def test_every_service_is_healthy_and_idle_after_the_fuzz(servers):
    for server in servers:
        status, _, _, _ = send(server, "GET", "/healthz", [], None)
        assert status == 200
        # Nothing the fuzz started is left running: in flight returns to 0 once the last
        # case's calls end (each within the 1 s deadline or the 0.2 s delay it was allowed).
        deadline = time.monotonic() + 10
        while in_flight := json.loads(send(server, "GET", "/telemetry", [], None)[1])["total"]["in_flight"]["now"]:
            assert time.monotonic() < deadline, f"{server.service}: {in_flight} requests still in flight"
            time.sleep(0.2)


# Per endpoint: its parameters, and a value of each that it accepts (so a case that breaks
# only the grammar, not a range, is refused for the grammar alone).
GATEWAY_OK = {
    "n": "2",
    "target": "async",
    "delay": "0",
    "timeout": "1",
    "deadline": "1",
    "concurrency": "2",
    "client": "auto",
    "fail": "0",
    "hang": "0",
    "invalid": "0",
    "drop": "0",
    "jitter": "0",
}
BACKEND_OK = {"task_id": "1", "delay": "0", "fail": "0", "hang": "0", "invalid": "0", "drop": "0", "jitter": "0"}
NUMERIC = {"n", "delay", "timeout", "deadline", "concurrency", "fail", "hang", "invalid", "drop", "jitter"}
DEFECTS = ("repeated", "unknown", "empty", "odd")
EXPECTED = {
    "repeated": "repeated_parameter",
    "unknown": "unknown_parameter",
    "empty": "bad_parameter",
    "odd": "bad_parameter",
}


@st.composite
def defective(draw):
    """(server index, path, query with exactly one grammar defect, the defect, the name it hits)."""
    server = draw(st.integers(0, 2))
    path, ok = ("/api/async/", BACKEND_OK) if server == 0 else (draw(st.sampled_from(GATEWAY_ENDPOINTS)), GATEWAY_OK)
    names = draw(st.lists(st.sampled_from(sorted(ok)), min_size=1, max_size=5, unique=True))
    query = [(name, ok[name]) for name in names]
    defect = draw(st.sampled_from(DEFECTS))
    if defect == "repeated":
        name = draw(st.sampled_from(names))
        query.insert(draw(st.integers(0, len(query))), (name, ok[name]))
    elif defect == "unknown":
        name = draw(
            st.one_of(
                st.sampled_from(["concurency", "N", "Delay", "n ", "delay[]", "url", "backend", "rows"]),
                st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12),
            )
        )
        if name in ok:
            name += "x"
        query.append((name, "1"))
    else:
        numeric = [name for name in names if name in NUMERIC]
        name = draw(st.sampled_from(numeric or names))
        value = "" if defect == "empty" or name not in NUMERIC else draw(st.sampled_from(ODD_SPELLINGS))
        defect = "empty" if value == "" else defect
        query = [(n, value if n == name else v) for n, v in query]
    return server, path, query, defect, name


@settings(
    max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=defective())
def test_a_grammar_defect_is_a_400_naming_its_parameter(servers, case):
    server, path, query, defect, name = case
    status, body, _, _ = send(servers[server], "GET", path, query, None)
    answer = json.loads(body)
    assert (status, answer["error"], answer["parameter"]) == (400, EXPECTED[defect], name), (query, answer)
