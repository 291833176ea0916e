"""Who may command a loadgen replica, where it may send requests, how long it waits
(loadgen/handshake.py, targets.py, replica.py): strangers against live `loadgen replica`
processes on loopback ports, each refused, each leaving the replica free to run its real
conductor's plan right after. The proof and the allow-list as units: test_replica_proof.py.

Over 250 lines: each refusal needs its own exchange with a live replica."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.live import ROOT
from loadgen import handshake, replicas, wire
from loadgen.engine import Replicas as OnReplicas
from loadgen.plan import Plan
from tests.loadgen.conftest import Replicas, conversation

# ---------------------------------------------------------------- a conductor without the secret


def test_a_conductor_without_the_secret_says_so_before_measuring(tmp_path, one):
    done = subprocess.run(
        [sys.executable, "-m", "loadgen", "run", "--replicas", "1", "--replicas-at", one.at, "--no-drain"]
        + ["--results", str(tmp_path), "--secret-file", str(tmp_path / "missing"), "http://127.0.0.1:9/"],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "loadgen: replicas: the secret file" in done.stderr, done.stderr
    assert not list(tmp_path.glob("*.json"))


# ---------------------------------------------------------------- live: strangers, then the conductor


@pytest.fixture(scope="module")
def one(secret):
    replica = Replicas(1, secret, "127.0.0.1", "--idle-limit", "2s")
    yield replica
    replica.stop()


def key_of(replica: Replicas) -> bytes:
    return replica.secret.read_bytes().strip()


def conductor_runs(replica: Replicas, known, timeout: float = 60.0) -> dict:
    """The real conductor's plan on the replica: it must be free (Pool.connect waits for it)."""

    async def go() -> dict:
        pool = await replicas.Pool.connect(replica.at, 1, key_of(replica), timeout=timeout)
        try:
            return await OnReplicas(pool).run(plan(known), progress=False)
        finally:
            await pool.close()

    return asyncio.run(go())


def plan(known) -> Plan:
    return Plan(urls=(known.url + "/api/async/?delay=0.01",), concurrency=2, duration=None, requests=10)


def served(figures: dict) -> bool:
    return figures["requests"] == 10 and figures["errors"] == 0


def lines(sock: socket.socket) -> list[dict]:
    """Every message until the replica closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return [json.loads(line) for line in data.splitlines()]


def refusals(replica: Replicas) -> list[dict]:
    return replica.events(0, "replica-refused")


def refused_since(replica: Replicas, earlier: int, expected) -> set[str]:
    """The refusals logged after the first `earlier`, once one matches `expected` (or 10 s
    pass): the replica logs asynchronously, at most 10 lines a second, so an earlier test's
    flood (its silent connections time out HANDSHAKE_TIMEOUT later) may hold the line back."""
    deadline = time.monotonic() + 10
    while True:
        found = {r["why"] for r in refusals(replica)[earlier:]}
        if any(expected(why) for why in found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_plan_sent_without_proof_is_refused_and_logged_with_its_peer(one, known):
    before = len(refusals(one))
    with socket.create_connection(("127.0.0.1", one.ports[0]), timeout=30) as sock:
        mine = sock.getsockname()
        sock.sendall(json.dumps({"type": "plan", "plan": wire.plan_to_wire(plan(known))}).encode() + b"\n")
        messages = lines(sock)
    assert [m["type"] for m in messages] == ["challenge", "refused"]
    (logged,) = refusals(one)[before:]
    assert logged["peer"] == f"{mine[0]}:{mine[1]}" and "expected a proof" in logged["why"]
    assert served(conductor_runs(one, known))


def test_a_wrong_secret_is_refused_once_and_never_retried(one, known):
    before = len(refusals(one))
    with pytest.raises(replicas.ReplicaError, match="refused our proof"):
        asyncio.run(replicas.Pool.connect(one.at, 1, b"w" * 32, timeout=60))
    assert [e["why"] for e in refusals(one)[before:]] == ["a wrong proof"]
    assert served(conductor_runs(one, known))


def test_a_replayed_proof_is_refused(one, known):
    key = key_of(one)
    with socket.create_connection(("127.0.0.1", one.ports[0]), timeout=30) as sock:
        (challenge,) = [json.loads(sock.makefile().readline())]
        theirs = handshake.nonce()
        proof = handshake.mac(key, "conductor", challenge["nonce"], theirs)
        recorded = {"type": "proof", "nonce": theirs, "mac": proof}
        sock.sendall(json.dumps(recorded).encode() + b"\n")
        sock.sendall(b'{"type": "bye"}\n')
        assert [m["type"] for m in lines(sock)] == ["hello"]  # the genuine exchange it was recorded from
    before = len(refusals(one))
    with socket.create_connection(("127.0.0.1", one.ports[0]), timeout=30) as sock:
        sock.sendall(json.dumps(recorded).encode() + b"\n")
        assert [m["type"] for m in lines(sock)] == ["challenge", "refused"]
    assert [e["why"] for e in refusals(one)[before:]] == ["a wrong proof"]
    assert served(conductor_runs(one, known))


def test_a_plan_to_a_host_outside_the_allow_list_is_refused(one, known):
    outside = Plan(urls=("http://127.0.0.2:9/",), concurrency=1, duration=None, requests=1)
    data = json.dumps({"type": "plan", "plan": wire.plan_to_wire(outside)}).encode() + b"\n"
    hello, *answer = asyncio.run(conversation(one.ports[0], key_of(one), data))
    assert hello["type"] == "hello" and [m["type"] for m in answer] == ["error"]
    assert "names host '127.0.0.2'; this replica loads only 127.0.0.1" in answer[0]["error"]
    assert served(conductor_runs(one, known))


def test_a_silent_connection_is_closed_and_holds_no_slot_meanwhile(one, known):
    before = len(refusals(one))
    with socket.create_connection(("127.0.0.1", one.ports[0]), timeout=60) as sock:
        first = sock.makefile().readline()
        # While it stays silent, the conductor is served: an unproved connection holds nothing.
        assert served(conductor_runs(one, known, timeout=5))
        messages = [json.loads(first), *lines(sock)]
    assert [m["type"] for m in messages] == ["challenge", "refused"]
    assert [e["why"] for e in refusals(one)[before:]] == [f"no proof within {handshake.HANDSHAKE_TIMEOUT:g} s"]


def test_a_silent_proved_conductor_is_closed_after_the_idle_limit(one, known):
    async def silent() -> tuple[list[dict], float]:
        reader, writer = await asyncio.open_connection("127.0.0.1", one.ports[0])
        hello = await handshake.prove(reader, writer, key_of(one), 10)
        began = time.monotonic()
        closing = await reader.read()
        writer.close()
        return [hello, *(json.loads(line) for line in closing.splitlines())], time.monotonic() - began

    messages, waited = asyncio.run(silent())
    assert messages[0]["idle_limit"] == 2.0
    assert messages[1]["type"] == "error" and "silent for 2 s between plans" in messages[1]["error"]
    assert waited >= 2.0  # a property: closed after the limit, never before it
    assert served(conductor_runs(one, known))


def test_a_conductor_busy_between_plans_keeps_its_replica_by_pinging(one, known):
    async def slow_conductor() -> list[dict]:
        pool = await replicas.Pool.connect(one.at, 1, key_of(one), timeout=30)
        on = OnReplicas(pool)
        try:
            first = await on.run(plan(known), progress=False)
            await asyncio.sleep(3 * 2.0)  # three idle limits of draining or sampling
            return [first, await on.run(plan(known), progress=False)]
        finally:
            await pool.close()

    assert all(served(figures) for figures in asyncio.run(slow_conductor()))


def test_a_flood_of_connections_is_refused_and_the_conductor_still_served(one, known):
    flood = 3 * handshake.MAX_PENDING
    began = time.monotonic()
    sockets = [socket.create_connection(("127.0.0.1", one.ports[0]), timeout=60) for _ in range(flood)]
    connected_in = time.monotonic() - began
    try:
        # While the whole flood stays open and silent, the conductor gets its turn (its
        # Pool.connect tries again while the replica has no room to hear a proof).
        assert served(conductor_runs(one, known))
        answers = [lines(sock) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
    challenged = sum(1 for answer in answers if answer and answer[0]["type"] == "challenge")
    closed_at_once = sum(1 for answer in answers if not answer)
    assert challenged + closed_at_once == flood
    assert closed_at_once > 0
    if connected_in < handshake.HANDSHAKE_TIMEOUT:
        # None could have timed out and made room while the flood connected.
        assert challenged <= handshake.MAX_PENDING
    why = {event["why"] for event in refusals(one)}
    assert f"more than {handshake.MAX_PENDING} connections proving themselves at once" in why
    assert one.processes[0].poll() is None
    assert served(conductor_runs(one, known))


def test_json_nested_past_pythons_stack_is_refused_like_any_nonsense(one, known):
    # Past an earlier flood's timeouts, whose burst of refusals fills a second's log lines.
    time.sleep(handshake.HANDSHAKE_TIMEOUT + 1.1)
    earlier = len(refusals(one))
    with socket.create_connection(("127.0.0.1", one.ports[0]), timeout=30) as sock:
        sock.sendall(b"[" * 200_000 + b"\n")
        assert [m["type"] for m in lines(sock)] == ["challenge", "refused"]
    why = "no proof: a message that is not JSON"
    assert why in refused_since(one, earlier, lambda seen: seen == why)
    assert served(conductor_runs(one, known))


def test_a_line_longer_than_a_plan_is_refused_before_the_proof(one, known):
    # Past an earlier flood's timeouts, whose burst of refusals fills a second's log lines.
    time.sleep(handshake.HANDSHAKE_TIMEOUT + 1.1)
    earlier = len(refusals(one))
    with socket.create_connection(("127.0.0.1", one.ports[0]), timeout=30) as sock:
        try:
            sock.sendall(b"x" * (wire.PLAN_LINE + 1024))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the replica may close before it has taken everything
        try:
            messages = lines(sock)
        except ConnectionResetError:
            messages = []
    assert not messages or messages[-1]["type"] == "refused"
    assert any("longer than" in why for why in refused_since(one, earlier, lambda seen: "longer than" in seen))
    assert served(conductor_runs(one, known))


# ---------------------------------------------------------------- live: redirects


class Redirect(BaseHTTPRequestHandler):
    to = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(302)
        self.send_header("Location", self.to)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def redirect_elsewhere():
    """127.0.0.1 redirects to 127.0.0.2, where a listener counts who connects."""
    listener = socket.create_server(("127.0.0.2", 0))
    listener.settimeout(0.2)
    accepted = []
    stop = threading.Event()

    def count() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(conn)
            conn.close()

    counter = threading.Thread(target=count, daemon=True)
    counter.start()
    handler = type("To", (Redirect,), {"to": f"http://127.0.0.2:{listener.getsockname()[1]}/"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", accepted
    server.shutdown()
    stop.set()
    counter.join(5)
    listener.close()


def redirected(replica: Replicas, url: str) -> dict:
    async def go() -> dict:
        async with replicas.pool(replica.at, 1, key_of(replica)) as pool:
            return await OnReplicas(pool).run(
                Plan(urls=(url,), concurrency=1, duration=None, requests=3), progress=False
            )

    return asyncio.run(go())


def test_a_redirect_to_a_host_outside_the_allow_list_is_an_error_and_never_connects(one, redirect_elsewhere):
    url, accepted = redirect_elsewhere
    figures = redirected(one, url)
    assert figures["errors"] == 3 and figures["error_kinds"] == {"ForbiddenTarget": 3}, figures
    assert accepted == []


def test_a_redirect_to_a_host_on_the_allow_list_is_followed(secret, redirect_elsewhere):
    url, accepted = redirect_elsewhere
    wider = Replicas(1, secret, "127.0.0.1,127.0.0.2")
    try:
        figures = redirected(wider, url)
    finally:
        wider.stop()
    # The listener closes at once, so each request fails, but only after connecting there.
    assert figures["errors"] == 3 and "ForbiddenTarget" not in figures["error_kinds"]
    assert len(accepted) >= 3
