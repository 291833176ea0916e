"""The network between the gateway and the backend cut in the middle of a run, then mended
(`make faults` does it with `docker network disconnect`): live servers with a TCP relay
between them that drops every byte while cut, as a network that loses packets does. The
gateway answers by its deadline with every call listed as failed, then recovers."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

import pytest

from harness.live import LiveServer, free_port

DEADLINE = 1.0
# The per-call timeout, well past the deadline: an answer must end by the deadline, not by it.
TIMEOUT = 10.0
QUERY = f"/api/aggregated/?n=5&delay=0.1&target=async&deadline={DEADLINE:g}&timeout={TIMEOUT:g}"


class Relay:
    """127.0.0.1:port -> the backend. While `cut`, it still accepts connections and reads
    what comes on them, and passes nothing on, either way."""

    def __init__(self, target: int) -> None:
        self.target, self.port = target, free_port()
        self.cut = threading.Event()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter | None) -> None:
        with contextlib.suppress(OSError):
            while data := await source.read(65536):
                if sink is not None and not self.cut.is_set():
                    sink.write(data)
                    await sink.drain()
        if sink is not None:
            sink.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut.is_set():
            await self._pipe(reader, None)
        else:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target)
            await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))
        writer.close()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture(scope="module")
def backend():
    server = LiveServer("backend", "asgi").start()
    yield server
    server.stop()


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_a_cut_network_fails_every_call_by_the_deadline_and_the_gateway_recovers(backend, mode):
    relay = Relay(backend.port)
    gateway = LiveServer("gateway", mode, BACKEND_URL=f"http://127.0.0.1:{relay.port}").start()
    try:
        # Before: whole answers, over connections the cut will then black-hole.
        status, body, _ = gateway.get(QUERY)
        assert status == 200 and len(body["responses"]) == 5 and body["errors"] == []
        relay.cut.set()
        for _ in range(3):
            status, body, headers = gateway.get(QUERY)
            assert status == 502 and body["responses"] == []
            # Every call listed, each failed by the deadline (nothing answered), none left out.
            assert sorted(error["task_id"] for error in body["errors"]) == [0, 1, 2, 3, 4]
            assert {error["kind"] for error in body["errors"]} <= {"deadline", "timeout"}, body["errors"]
            assert headers["X-Aggregation-Errors"] == "5"
            # Ended by the deadline: it waited for it, and never for the per-call timeout.
            assert DEADLINE <= body["fetch_elapsed"] < TIMEOUT
        relay.cut.clear()
        # Mended: clean answers again, on new connections.
        begun = time.monotonic()
        while True:
            status, body, _ = gateway.get(QUERY)
            if status == 200 and not body["errors"]:
                break
            assert time.monotonic() - begun < 30, body
            time.sleep(0.2)
        print(f"\n{mode}: clean again {time.monotonic() - begun:.2f} s after the network was mended")
    finally:
        gateway.stop()
        relay.close()
