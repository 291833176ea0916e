"""Chat rooms over WebSocket, live: every ASGI mode serves them beside HTTP; a room's
members, the sender included, get each message with the server's receive time and nobody
else does; bad names, origins, frames, sizes and rates are refused as docs/chat.md says;
the WSGI modes answer /ws/... with a 400 JSON naming the ASGI modes.

Over 250 lines: one live stack per server mode serves every behaviour of the rooms, and
splitting would start each again."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from asynclab import api, chat
from harness.live import LiveServer, free_port, raw_exchange

ASGI_MODES = ["asgi", "uvicorn-worker", "daphne", "hypercorn", "granian"]
# What a test waits at most for a frame that must come: long enough for a loaded host,
# and the test fails (it never passes) when it runs out.
PATIENCE = 10


@pytest.fixture(scope="module")
def shared():
    """One asgi backend with the default knobs for the tests that count nothing on it."""
    server = LiveServer("backend", "asgi").start()
    yield server
    server.stop()


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 60))


def ws_url(server, room: str) -> str:
    return server.url + chat.room_path(room)


async def members(session, server, room: str, n: int):
    return [await session.ws_connect(ws_url(server, room)) for _ in range(n)]


@pytest.mark.parametrize("mode", ASGI_MODES)
def test_every_member_of_the_room_gets_the_message_with_the_server_time(serve, mode):
    backend = serve("backend", mode)

    async def scenario():
        async with aiohttp.ClientSession() as session:
            alice, bob = await members(session, backend, "lobby", 2)
            before = time.time()
            await alice.send_str(chat.frame("hello", sent=before))
            got = [await member.receive_json(timeout=PATIENCE) for member in (alice, bob)]
            after = time.time()
            # HTTP on the same port, from the same application.
            async with session.get(backend.url + "/healthz") as health:
                assert health.status == 200
            return got, before, after

    got, before, after = run(scenario())
    for message in got:
        assert message["room"] == "lobby" and message["text"] == "hello"
        assert message["sent"] == before
        # The server stamps the time the frame arrived: after it was sent, before it came back.
        assert before <= message["received"] <= after
    assert got[0] == got[1]


def test_a_member_of_another_room_receives_nothing(shared):
    backend = shared

    async def scenario():
        async with aiohttp.ClientSession() as session:
            (here,) = await members(session, backend, "here", 1)
            (there,) = await members(session, backend, "there", 1)
            await here.send_str(chat.frame("for here"))
            assert (await here.receive_json(timeout=PATIENCE))["text"] == "for here"
            # A marker sent in `there` after `here`'s message was delivered: the first frame
            # `there` gets must be the marker, or `here`'s message leaked into it.
            await there.send_str(chat.frame("marker"))
            return await there.receive_json(timeout=PATIENCE)

    first = run(scenario())
    assert first["room"] == "there" and first["text"] == "marker"


@pytest.mark.parametrize(
    "room",
    ["bad%20name", "x" * 65, "caf%C3%A9", "a%2Fb", ""],
    ids=["space", "too-long", "non-ascii", "slash", "empty"],
)
def test_a_room_name_outside_the_grammar_is_refused_at_the_handshake(shared, room):
    backend = shared

    async def scenario():
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(backend.url + chat.PATH + room + "/")
            return refused.value.status

    assert run(scenario()) == 403


def test_an_origin_outside_allowed_hosts_is_refused_and_an_allowed_one_joins(shared):
    backend = shared

    async def scenario():
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(ws_url(backend, "lobby"), origin="http://evil.example")
            member = await session.ws_connect(ws_url(backend, "lobby"), origin=f"http://localhost:{backend.port}")
            await member.send_str(chat.frame("in"))
            return refused.value.status, await member.receive_json(timeout=PATIENCE)

    status, echoed = run(scenario())
    assert status == 403
    assert echoed["text"] == "in"


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ("not json", "not_json"),
        ("[1, 2]", "not_an_object"),
        ('{"text": "x", "colour": "red"}', "unknown_field"),
        ('{"sent": 1}', "bad_text"),
        ('{"text": 5}', "bad_text"),
        ('{"text": "x", "sent": "noon"}', "bad_sent"),
        ('{"text": "x", "sent": true}', "bad_sent"),
        ('{"text": "x", "sent": NaN}', "bad_sent"),
        (b"\x00\x01", "binary_frame"),
    ],
)
def test_a_bad_frame_gets_an_error_frame_and_the_member_stays(shared, frame, error):
    backend = shared

    async def scenario():
        async with aiohttp.ClientSession() as session:
            (member,) = await members(session, backend, "lobby", 1)
            if isinstance(frame, bytes):
                await member.send_bytes(frame)
            else:
                await member.send_str(frame)
            answer = await member.receive_json(timeout=PATIENCE)
            # Still a member: its next good frame is broadcast to it.
            await member.send_str(chat.frame("after"))
            return answer, await member.receive_json(timeout=PATIENCE)

    answer, after = run(scenario())
    assert answer["error"] == error and answer["message"]
    # Bounded: the error quotes at most chat.QUOTE characters of what it refused.
    assert len(answer["message"]) < 200
    assert after["text"] == "after"


def test_a_long_non_json_frame_is_quoted_only_in_part(shared):
    backend = shared

    async def scenario():
        async with aiohttp.ClientSession() as session:
            (member,) = await members(session, backend, "lobby", 1)
            await member.send_str("y" * 10_000)
            return await member.receive_json(timeout=PATIENCE)

    answer = run(scenario())
    assert answer["error"] == "not_json"
    assert "y" * chat.QUOTE in answer["message"] and "y" * (chat.QUOTE + 1) not in answer["message"]


def test_a_frame_over_the_size_limit_closes_with_1009(serve):
    backend = serve("backend", "asgi", CHAT_MAX_FRAME=1024)

    async def scenario():
        async with aiohttp.ClientSession() as session:
            (member,) = await members(session, backend, "lobby", 1)
            await member.send_str(chat.frame("z" * 1024))
            closing = await member.receive(timeout=PATIENCE)
            return closing, member.close_code

    closing, code = run(scenario())
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert code == chat.TOO_BIG


def test_a_member_sending_faster_than_the_rate_is_closed_with_1008(serve):
    backend = serve("backend", "asgi", CHAT_MEMBER_RATE=5)

    async def scenario():
        async with aiohttp.ClientSession() as session:
            (member,) = await members(session, backend, "lobby", 1)
            # A burst of 5 is allowed; 20 at once is not.
            for n in range(20):
                await member.send_str(chat.frame(str(n)))
            texts = []
            async for message in member:
                texts.append(json.loads(message.data)["text"])
            return texts, member.close_code

    texts, code = run(scenario())
    assert code == chat.POLICY
    assert texts[:5] == ["0", "1", "2", "3", "4"] and len(texts) < 20


def test_members_per_room_are_bounded_per_process(serve):
    backend = serve("backend", "asgi", CHAT_ROOM_MEMBERS=2)

    async def scenario():
        async with aiohttp.ClientSession() as session:
            # Held: a member nobody refers to is collected, and its connection closed.
            full = await members(session, backend, "full", 2)
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(ws_url(backend, "full"))
            # Another room still admits.
            (other,) = await members(session, backend, "other", 1)
            await other.send_str(chat.frame("ok"))
            answer = await other.receive_json(timeout=PATIENCE)
            assert all(not member.closed for member in full)
            return refused.value.status, answer

    status, answer = run(scenario())
    assert status == 403 and answer["text"] == "ok"
    _, gauge, _ = backend.get(api.CHAT_GAUGE)
    assert gauge["refused"] == 1 and gauge["joined"] == 3


def test_the_gauge_counts_members_frames_and_deliveries(serve):
    backend = serve("backend", "asgi")

    async def scenario():
        async with aiohttp.ClientSession() as session:
            room = await members(session, backend, "lobby", 3)
            await room[0].send_str(chat.frame("one"))
            await room[0].send_str("bad")
            for member in room:
                await member.receive_json(timeout=PATIENCE)
            await room[0].receive_json(timeout=PATIENCE)  # the error frame
            return backend.get(api.CHAT_GAUGE)[1]

    gauge = run(scenario())
    assert gauge["open"] == 3 and gauge["joined"] == 3 and gauge["rooms"] == 1
    assert gauge["frames"] == 2 and gauge["broadcasts"] == 1 and gauge["bad_frames"] == 1
    assert gauge["deliveries"] == 3 and gauge["layer"] == "memory" and gauge["redis"] is None


def test_plain_http_to_a_room_under_asgi_says_it_speaks_websocket(shared):
    backend = shared
    status, body, headers = backend.get(chat.room_path("lobby"))
    assert status == 426 and body["error"] == "websocket_only"
    assert headers["Upgrade"] == "websocket"


@pytest.mark.parametrize("mode", ["wsgi", "gevent"])
def test_a_websocket_upgrade_under_wsgi_gets_a_400_json_naming_the_asgi_modes(serve, mode):
    backend = serve("backend", mode)
    status, content_type, body = raw_exchange(
        backend.port,
        (
            f"GET {chat.room_path('lobby')} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
            "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        ).encode(),
    )
    answer = json.loads(body)
    assert status == 400 and content_type == "application/json"
    assert answer["error"] == "websocket_needs_asgi" and answer["server_mode"] == mode
    assert "asgi" in answer["asgi_modes"] and "ASGI" in answer["message"]


def test_the_redis_layer_is_used_and_a_member_is_refused_while_redis_is_down(serve):
    # No Redis on this port: the redis layer must be the one in use (the in-memory one would
    # admit the member), and a join it cannot make is refused, not a crash.
    backend = serve("backend", "asgi", CHANNEL_LAYER="redis", REDIS_HOST="127.0.0.1", REDIS_PORT=free_port())

    async def scenario():
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(ws_url(backend, "lobby"))
            return refused.value.status

    assert run(scenario()) == 403
    status, gauge, _ = backend.get(api.CHAT_GAUGE)
    assert status == 200 and gauge["layer"] == "redis"
    assert gauge["layer_errors"] == 1 and gauge["open"] == 0 and gauge["joined"] == 0
    # Redis's own counters are read for loadgen's figures: unread, they say why, and /chat answers.
    assert gauge["redis"]["error"].startswith("ConnectionError"), gauge["redis"]
    assert backend.get("/healthz")[0] == 200


def test_with_the_memory_layer_a_room_does_not_span_two_workers(serve):
    backend = serve("backend", "asgi", WORKERS=2)

    async def scenario():
        async with aiohttp.ClientSession() as session:
            # Members join until two workers hold some: each learns its worker from the pid
            # stamped on its own message, which the worker that holds it broadcast.
            by_pid = {}
            for n in range(40):
                (member,) = await members(session, backend, "split", 1)
                await member.send_str(chat.frame(f"who-{n}"))
                while (echo := await member.receive_json(timeout=PATIENCE))["text"] != f"who-{n}":
                    pass
                by_pid.setdefault(echo["pid"], member)
                if len(by_pid) == 2:
                    break
            assert len(by_pid) == 2, "40 connections all went to one worker"
            here, there = by_pid.values()
            await here.send_str(chat.frame("across"))
            while (await here.receive_json(timeout=PATIENCE))["text"] != "across":
                pass
            # The marker, sent after "across" was delivered on the first worker, is the next
            # message `there` gets from its own worker's room, with nothing in between.
            await there.send_str(chat.frame("marker"))
            seen = []
            while (text := (await there.receive_json(timeout=PATIENCE))["text"]) != "marker":
                seen.append(text)
            return seen

    seen = run(scenario())
    assert "across" not in seen
