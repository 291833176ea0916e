"""loadgen replicas on other machines: N `loadgen replica` servers, one conductor, one result.

When one machine cannot generate the load, or must not share its cores with the servers,
the load comes from replicas (Swarm tasks of the stack's loadgen service, each on its own
node if the swarm has them). A replica only measures: it listens on a port and runs its
share of the plans its conductor sends. The conductor is any experiment run with
`--replicas N`: it finds the replicas by DNS (Swarm's `tasks.<service>` names every task),
and runs each measurement through them as workers.py runs one through local processes:
every replica opens its session, a barrier, one start, then each sends back its tally with
its histograms in HdrHistogram's encoding, which tally.merge adds exactly. The rest of an
experiment (drain, verify, the services' telemetry, the result file) stays in the conductor.

A replica obeys only its conductor: a connection proves it holds the replicas' secret
before anything else (handshake.py), a plan may load only the hosts of the replica's
allow-list (targets.py), and time is bounded on both sides of the proof: an unproved
connection gets a few seconds, a proved conductor silent beyond the replica's idle limit
between plans is closed (a live one pings while it works between plans). A replica serves
one conductor at a time.

Two machines' monotonic clocks have nothing in common, so a replica sends its times
relative to the moment it got the start, and the conductor puts them on its own clock.
This module is the conductor's side; a replica's server is replica.py, the wire (one JSON
object a line, plans and parts) wire.py.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from contextlib import asynccontextmanager
from dataclasses import replace

from . import handshake
from .plan import READY_TIMEOUT, Plan, processes_for
from .wire import PART_LINE, ReplicaError, encode, part_from_wire, plan_to_wire, receive, shift

__all__ = ["PORT", "Pool", "ReplicaError", "pool"]

PORT = 9100
# Resolving and connecting to every replica, on a swarm that is still starting tasks.
CONNECT_TIMEOUT = 120.0
# A proved conductor silent for longer than this between plans is closed, which frees the
# replica for another. A conductor may spend minutes between plans (draining, sampling),
# so it pings four times per idle limit meanwhile (the replica states its limit in its hello).
IDLE_LIMIT = 120.0
PINGS_PER_IDLE_LIMIT = 4


def address(text: str) -> tuple[str, int]:
    """HOST[:PORT], PORT defaulting to the replicas' own."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        return text, PORT
    return host, int(port)


async def endpoints(at: str) -> list[tuple[str, int]]:
    """Every (address, port) the names in `at` resolve to, in a stable order; a name that
    does not resolve (yet) adds none."""
    found: set[tuple[str, int]] = set()
    loop = asyncio.get_running_loop()
    for word in filter(None, (part.strip() for part in at.split(","))):
        host, port = address(word)
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError:
            continue
        found.update((info[4][0], port) for info in infos)
    return sorted(found)


class Connection:
    def __init__(self, reader, writer, hello: dict, peer: str) -> None:
        self.reader, self.writer, self.hello, self.peer = reader, writer, hello, peer

    async def send(self, message: dict) -> None:
        self.writer.write(encode(message))
        await self.writer.drain()

    async def receive(self, timeout: float | None = None) -> dict:
        try:
            return await receive(self.reader, timeout)
        except ReplicaError as exc:
            raise ReplicaError(f"replica {self.hello.get('host')} on {self.hello.get('node')}: {exc}") from None


class Pool:
    """The conductor's connections to its replicas, each proved both ways."""

    def __init__(self, connections: list[Connection]) -> None:
        self.connections = connections
        self.running = False
        self.heartbeat: asyncio.Task | None = None

    @classmethod
    async def connect(cls, at: str, count: int, secret: bytes, timeout: float = CONNECT_TIMEOUT) -> Pool:
        """Wait until `at` (HOST[:PORT], comma-separated) names `count` replicas (Swarm adds
        a task's address once it runs), then connect to each and prove the secret."""
        deadline = time.monotonic() + timeout
        while True:
            found = await endpoints(at)
            if len(found) >= count or time.monotonic() > deadline:
                break
            await asyncio.sleep(1.0)
        if len(found) < count:
            raise ReplicaError(
                f"{at} names {len(found)} replicas, not {count}, after {timeout:g} s: are "
                f"{count} loadgen replica tasks running (LOADGEN_REPLICAS)?"
            )
        connections = []
        try:
            for ip, port in found[:count]:
                connections.append(await cls.open(ip, port, secret, deadline))
        except BaseException:
            await Pool(connections).close()
            raise
        pool = cls(connections)
        pool.heartbeat = asyncio.get_running_loop().create_task(pool.beat())
        return pool

    @staticmethod
    async def open(ip: str, port: int, secret: bytes, deadline: float) -> Connection:
        """A proved connection to one replica, trying again until `deadline` while it is not
        up yet or serves another conductor; never again once it refused the proof."""
        while True:
            writer = None
            try:
                reader, writer = await asyncio.open_connection(ip, port, limit=PART_LINE)
                hello = await handshake.prove(reader, writer, secret, 10.0)
                return Connection(reader, writer, hello, f"{ip}:{port}")
            except handshake.Refused as exc:
                writer.close()
                raise ReplicaError(f"replica at {ip}:{port}: {exc}") from None
            except (OSError, ReplicaError) as exc:
                if writer is not None:
                    writer.close()
                if time.monotonic() > deadline:
                    raise ReplicaError(f"replica at {ip}:{port}: {exc}") from None
                await asyncio.sleep(1.0)

    async def beat(self) -> None:
        """A ping to every replica, several times per idle limit, while no plan runs: a
        conductor draining or sampling for minutes between plans keeps its replicas."""
        limits = [c.hello.get("idle_limit") for c in self.connections]
        shortest = min((x for x in limits if isinstance(x, int | float) and x > 0), default=IDLE_LIMIT)
        interval = max(0.2, shortest / PINGS_PER_IDLE_LIMIT)
        while True:
            await asyncio.sleep(interval)
            if not self.running:
                for connection in self.connections:
                    # A whole line at once, and run() writes none meanwhile: never interleaved.
                    connection.writer.write(encode({"type": "ping"}))

    def describe(self) -> list[dict]:
        return [
            {**{k: v for k, v in c.hello.items() if k not in ("type", "protocol", "idle_limit")}, "address": c.peer}
            for c in self.connections
        ]

    async def parts(self, plan: Plan) -> list[dict]:
        """One measurement on the replicas, the same plan shared out as among local
        processes: each replica's snapshot, on this machine's clock (engine.Replicas adds them)."""
        self.running = True
        try:
            return await self._parts(plan)
        finally:
            self.running = False

    async def _parts(self, plan: Plan) -> list[dict]:
        count = processes_for(plan, len(self.connections))
        used = self.connections[:count]
        run_id = os.urandom(3).hex()
        wire = plan_to_wire(replace(plan, workers=1))
        for i, connection in enumerate(used):
            await connection.send({"type": "plan", "plan": wire, "share": [i, count], "run_id": f"{run_id}r{i}"})
        # The barrier: every replica has its session open before any sends a request.
        await asyncio.gather(*(self.expect(c, "ready", READY_TIMEOUT) for c in used))
        origin = time.perf_counter()
        for connection in used:
            await connection.send({"type": "go"})
        bound = None if plan.requests is not None else _bound(plan)
        answers = await asyncio.gather(*(self.expect(c, "part", bound) for c in used))
        return [shift(part_from_wire(answer["part"]), origin) for answer in answers]

    async def expect(self, connection: Connection, kind: str, timeout: float | None) -> dict:
        message = await connection.receive(timeout)
        if message["type"] != kind:
            raise ReplicaError(f"replica {connection.hello.get('host')}: expected {kind}, got {message['type']!r}")
        return message

    async def close(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        for connection in self.connections:
            try:
                await connection.send({"type": "bye"})
            except ConnectionError:
                pass
            connection.writer.close()


def _bound(plan: Plan) -> float:
    """How long a replica may take to answer a timed plan: its stretched window, the warm-up,
    one request's timeout, and a margin for the tally."""
    window = plan.max_duration or 6 * (plan.duration or 0)
    return window + plan.warmup + plan.timeout + 60.0


@asynccontextmanager
async def pool(at: str, count: int, secret: bytes):
    """`count` replicas at `at`, connected for the block (engine.Replicas runs on them)."""
    connected = await Pool.connect(at, count, secret)
    try:
        yield connected
    finally:
        await connected.close()
