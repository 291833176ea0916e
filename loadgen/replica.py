"""`loadgen replica`: the server a loadgen replica runs (replicas.py has the whole picture
and the conductor's side).

It serves one proved conductor at a time, a plan at a time: every connection proves it
holds the replicas' secret first (handshake.py) and holds nothing until it has; a plan
loads only the hosts of the allow-list (targets.py); a proved conductor silent beyond the
idle limit between plans is closed, which frees the replica for another. Every refusal and
every conductor is logged on stderr with its peer.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time

from . import handshake, runner, targets
from .plan import READY_TIMEOUT, START_MARGIN, Share
from .replicas import IDLE_LIMIT
from .tally import snapshot
from .wire import PLAN_LINE, PROTOCOL, ReplicaError, encode, plan_from_wire, receive, shift, wire_part


def identity() -> dict:
    """What a replica says of itself: Swarm's node name (LOADGEN_NODE, from the stack's
    {{.Node.Hostname}}), its task slot, its container's host name and its cores."""
    return {
        "node": os.environ.get("LOADGEN_NODE", "").strip() or socket.gethostname(),
        "slot": os.environ.get("LOADGEN_SLOT", "").strip() or None,
        "host": socket.gethostname(),
        "cores": os.cpu_count(),
    }


class Replica:
    """`loadgen replica`: serves one proved conductor at a time, a plan at a time, loading
    only the hosts in `hosts`."""

    def __init__(self, secret: bytes, hosts: frozenset[str], idle_limit: float = IDLE_LIMIT) -> None:
        self.busy = asyncio.Lock()
        self.me = identity()
        self.secret, self.hosts, self.idle_limit = secret, hosts, idle_limit
        self.guard = targets.guard(hosts)
        self.gate = handshake.Gate()
        self.log = handshake.Log()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        who = handshake.peer(writer)
        try:
            nonces = await self.admit(reader, writer, who)
            if nonces is not None:
                await self.conduct(reader, writer, who, *nonces)
        except ConnectionError:
            pass  # the other side left: nobody to tell
        finally:
            try:
                # Bounded: a peer that reads nothing must not hold this task.
                await asyncio.wait_for(writer.drain(), handshake.HANDSHAKE_TIMEOUT)
            except (ConnectionError, TimeoutError):
                pass
            writer.close()

    async def admit(self, reader, writer, who: str) -> tuple[str, str] | None:
        """The proof, before anything else: (the replica's nonce, the conductor's), or None
        once the connection is refused and logged with its peer. It holds no slot meanwhile."""
        if not self.gate.enter():
            self.log.refused(who, f"more than {self.gate.limit} connections proving themselves at once")
            return None
        try:
            return await handshake.demand_proof(reader, writer, self.secret)
        except handshake.Refused as exc:
            self.log.refused(who, str(exc))
            writer.write(handshake.refusal())
            return None
        finally:
            self.gate.leave()

    async def conduct(self, reader, writer, who: str, mine: str, theirs: str) -> None:
        """A proved conductor: the replica's one slot, unless another holds it."""
        if self.busy.locked():
            writer.write(encode({"type": "busy", "error": f"replica {self.me['host']} serves another conductor"}))
            return
        async with self.busy:
            writer.write(handshake.hello(self.secret, mine, theirs, {**self.me, "idle_limit": self.idle_limit}))
            await writer.drain()
            try:
                await self.serve(reader, writer, who)
            except ReplicaError as exc:
                # Nonsense, a plan that failed or an idle conductor: say why, unless refuse() has.
                if not getattr(exc, "told", False):
                    writer.write(encode({"type": "error", "error": str(exc)}))
                self.log.event("replica-closed", peer=who, why=str(exc)[:300])

    async def next_message(self, reader: asyncio.StreamReader) -> dict:
        """The conductor's next message between plans, within the idle limit (pings aside)."""
        while True:
            try:
                message = await asyncio.wait_for(receive(reader, limit=PLAN_LINE), self.idle_limit)
            except TimeoutError:
                raise ReplicaError(
                    f"the conductor was silent for {self.idle_limit:g} s between plans (the replica's idle "
                    "limit): closed"
                ) from None
            if message["type"] != "ping":
                return message

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, who: str) -> None:
        plans = 0
        while True:
            message = await self.next_message(reader)
            if message["type"] == "bye":
                return
            plans += 1
            if plans == 1:  # a conductor at work (the healthcheck proves itself and leaves)
                self.log.event("replica-conductor", peer=who)
            if message["type"] != "plan":
                raise await self.refuse(writer, f"expected a plan, got {message['type'][:20]!r}")
            try:
                plan = plan_from_wire(message.get("plan"))
                targets.check(plan.urls, self.hosts)
                index, of = message.get("share", [0, 1])
                if not (isinstance(index, int) and isinstance(of, int) and 0 <= index < of <= 1024):
                    raise ValueError("share: must be [index, of] with 0 <= index < of <= 1024")
                run_id = str(message.get("run_id") or "")[:32] or None
            except (ValueError, TypeError) as exc:
                raise await self.refuse(writer, str(exc)) from None
            origin = {}

            async def ready(origin: dict = origin) -> None:
                writer.write(encode({"type": "ready"}))
                await writer.drain()
                go = await receive(reader, READY_TIMEOUT, PLAN_LINE)
                if go["type"] != "go":
                    raise ReplicaError(f"expected go, got {go['type'][:20]!r}")
                origin["at"] = time.perf_counter()
                await asyncio.sleep(START_MARGIN)

            share = Share(index, of)
            try:
                tally, cpu, wall = await runner.measure(plan, "", False, share, ready, run_id, guard=self.guard)
            except ReplicaError:
                raise
            except Exception as exc:  # the plan's own failure: the conductor must hear of it
                raise await self.refuse(writer, f"{type(exc).__name__}: {exc}") from None
            part = shift(snapshot(tally, cpu, wall), -origin["at"])
            writer.write(encode({"type": "part", "part": {**wire_part(part), **self.me}}))
            await writer.drain()

    async def refuse(self, writer: asyncio.StreamWriter, why: str) -> ReplicaError:
        writer.write(encode({"type": "error", "error": why}))
        await writer.drain()
        error = ReplicaError(why)
        error.told = True
        return error


async def serve(host: str, port: int, secret: bytes, hosts: frozenset[str], idle_limit: float = IDLE_LIMIT) -> None:
    replica = Replica(secret, hosts, idle_limit)
    server = await asyncio.start_server(replica.handle, host, port, limit=PLAN_LINE)
    replica.log.event(
        "replica",
        listen=f"{host}:{port}",
        protocol=PROTOCOL,
        targets=sorted(hosts),
        idle_limit=idle_limit,
        proof_timeout=handshake.HANDSHAKE_TIMEOUT,
        **replica.me,
    )
    async with server:
        await server.serve_forever()
