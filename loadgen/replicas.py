"""loadgen replicas on other machines: N `loadgen replica` servers, one conductor, one result.

When one machine cannot generate the load, or must not share its cores with the servers,
the load comes from replicas (Swarm tasks of the stack's loadgen service, each on its own
node if the swarm has them). A replica only measures: it listens on a port and runs its
share of whatever plan a conductor sends. The conductor is any experiment run with
`--replicas N`: it finds the replicas by DNS (Swarm's `tasks.<service>` names every task),
and runs each measurement through them as workers.py runs one through local processes:
every replica opens its session, a barrier, one start, then each sends back its tally with
its histograms in HdrHistogram's encoding, which tally.merge adds exactly. The rest of an
experiment (drain, verify, the services' telemetry, the result file) stays in the conductor.

Two machines' monotonic clocks have nothing in common, so a replica sends its times
relative to the moment it got the start, and the conductor puts them on its own clock.
The wire is one JSON object per line, each at most MAX_LINE; a replica takes only a plan
it can check field by field, and serves one conductor at a time.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
from contextlib import asynccontextmanager
from dataclasses import fields, replace

from . import runner
from .plan import READY_TIMEOUT, START_MARGIN, Plan, Share, processes_for
from .tally import RECORDERS, snapshot

PORT = 9100
PROTOCOL = 1
# A part holds two encoded histograms and, for a timeline plan, every request: bounded, but large.
MAX_LINE = 64 * 1024 * 1024
# Resolving and connecting to every replica, on a swarm that is still starting tasks.
CONNECT_TIMEOUT = 120.0
# The most a plan may ask of a replica: the CLI's own limits, so a conductor can send
# nothing its flags could not.
LIMITS = {
    "concurrency": 100_000,
    "rate": 100_000.0,
    "duration": 3600.0,
    "max_duration": 6 * 3600.0,
    "warmup": 3600.0,
    "timeout": 3600.0,
    "requests": 10_000_000,
    "max_inflight": 100_000,
    "workers": 16,
    "urls": 64,
}


class ReplicaError(RuntimeError):
    """A replica refused, failed or went away."""


# ---------------------------------------------------------------- the wire


def encode(message: dict) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


async def receive(reader: asyncio.StreamReader, timeout: float | None = None) -> dict:
    try:
        line = await asyncio.wait_for(reader.readline(), timeout)
    except TimeoutError:
        raise ReplicaError(f"nothing received within {timeout:g} s") from None
    except (ValueError, asyncio.LimitOverrunError):
        raise ReplicaError(f"a message longer than {MAX_LINE} bytes") from None
    if not line:
        raise ReplicaError("the connection closed")
    try:
        message = json.loads(line)
    except ValueError:
        raise ReplicaError("a message that is not JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ReplicaError("a message without a type")
    if message["type"] == "error":
        raise ReplicaError(str(message.get("error")))
    return message


def plan_to_wire(plan: Plan) -> dict:
    return {field.name: getattr(plan, field.name) for field in fields(Plan)}


def plan_from_wire(data: object) -> Plan:
    """A Plan from a conductor's JSON, refusing anything a Plan does not hold or the CLI
    would not allow: a replica measures only what it can check."""
    if not isinstance(data, dict):
        raise ValueError("plan: not an object")
    known = {field.name: field for field in fields(Plan)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"plan: unknown fields {', '.join(unknown)}")
    values: dict = {}
    for name, value in data.items():
        default = known[name].default
        if name == "urls":
            if not isinstance(value, list | tuple) or not value or len(value) > LIMITS["urls"]:
                raise ValueError(f"plan: urls must be 1 to {LIMITS['urls']} URLs")
            if not all(isinstance(url, str) and url.startswith(("http://", "https://")) for url in value):
                raise ValueError("plan: every url must be an http(s) URL")
            values[name] = tuple(value)
            continue
        if value is None:
            if default is not None and name != "duration":
                raise ValueError(f"plan: {name} may not be null")
            values[name] = None
            continue
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"plan: {name} must be true or false")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"plan: {name} must be a number")
        elif value < 0 or value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"plan: {name} must be a finite number, at least 0")
        elif name in LIMITS and value > LIMITS[name]:
            raise ValueError(f"plan: {name} is {value}; at most {LIMITS[name]}")
        elif isinstance(default, int) and not isinstance(default, bool) and name != "rate":
            if value != int(value):
                raise ValueError(f"plan: {name} must be a whole number")
            value = int(value)
        values[name] = value
    if "urls" not in values:
        raise ValueError("plan: urls missing")
    plan = Plan(**values)
    if plan.concurrency < 1:
        raise ValueError("plan: concurrency must be at least 1")
    return plan


def shift(part: dict, offset: float) -> dict:
    """A part with its times moved by `offset` seconds: onto the start (a replica sends
    times relative to when it got it) and back onto the conductor's clock."""
    moved = dict(part)
    for name in ("started", "window_end", "last_done"):
        moved[name] = part[name] + offset
    if part.get("timeline") is not None:
        moved["timeline"] = [(intended + offset, latency, outcome) for intended, latency, outcome in part["timeline"]]
    return moved


def wire_part(part: dict) -> dict:
    """A tally.snapshot made JSON-safe: the histograms' encodings are bytes."""
    safe = dict(part)
    for name in RECORDERS:
        safe[name] = {**part[name], "histogram": part[name]["histogram"].decode("ascii")}
    safe["slowest"] = [list(entry) for entry in part["slowest"]]
    return safe


def part_from_wire(safe: dict) -> dict:
    part = dict(safe)
    for name in RECORDERS:
        part[name] = {**safe[name], "histogram": safe[name]["histogram"].encode("ascii")}
    part["slowest"] = [tuple(entry) for entry in safe["slowest"]]
    if safe.get("timeline") is not None:
        part["timeline"] = [tuple(entry) for entry in safe["timeline"]]
    for name in ("cpu_start", "cpu_end"):
        part[name] = tuple(safe[name]) if safe.get(name) else None
    return part


# ---------------------------------------------------------------- the replica


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
    """`loadgen replica`: serves one conductor at a time, a plan at a time."""

    def __init__(self) -> None:
        self.busy = asyncio.Lock()
        self.me = identity()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.busy.locked():
                writer.write(encode({"type": "error", "error": f"replica {self.me['host']} serves another conductor"}))
                return
            async with self.busy:
                writer.write(encode({"type": "hello", "protocol": PROTOCOL, **self.me}))
                await writer.drain()
                await self.serve(reader, writer)
        except ReplicaError as exc:
            # Nonsense or a plan that failed: say why, unless refuse() has already.
            if not getattr(exc, "told", False):
                writer.write(encode({"type": "error", "error": str(exc)}))
        except ConnectionError:
            pass  # the conductor left: nobody to tell
        finally:
            try:
                await writer.drain()
            except ConnectionError:
                pass
            writer.close()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            # Between plans a conductor may be draining or sampling for minutes: no timeout.
            message = await receive(reader)
            if message["type"] == "bye":
                return
            if message["type"] != "plan":
                raise await self.refuse(writer, f"expected a plan, got {message['type']!r}")
            try:
                plan = plan_from_wire(message.get("plan"))
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
                go = await receive(reader, READY_TIMEOUT)
                if go["type"] != "go":
                    raise ReplicaError(f"expected go, got {go['type']!r}")
                origin["at"] = time.perf_counter()
                await asyncio.sleep(START_MARGIN)

            try:
                tally, cpu, wall = await runner.measure(plan, "", False, Share(index, of), ready, run_id)
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


async def serve(host: str, port: int) -> None:
    replica = Replica()
    server = await asyncio.start_server(replica.handle, host, port, limit=MAX_LINE)
    print(
        json.dumps({"event": "replica", "listen": f"{host}:{port}", "protocol": PROTOCOL, **replica.me}),
        file=sys.stderr,
        flush=True,
    )
    async with server:
        await server.serve_forever()


# ---------------------------------------------------------------- the conductor


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
    """The conductor's connections to its replicas."""

    def __init__(self, connections: list[Connection]) -> None:
        self.connections = connections

    @classmethod
    async def connect(cls, at: str, count: int, timeout: float = CONNECT_TIMEOUT) -> Pool:
        """Wait until `at` (HOST[:PORT], comma-separated) names `count` replicas (Swarm adds
        a task's address once it runs), then connect to each."""
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
                connections.append(await cls.open(ip, port, deadline))
        except BaseException:
            await Pool(connections).close()
            raise
        return cls(connections)

    @staticmethod
    async def open(ip: str, port: int, deadline: float) -> Connection:
        while True:
            try:
                reader, writer = await asyncio.open_connection(ip, port, limit=MAX_LINE)
                hello = await receive(reader, 10.0)
                break
            except (OSError, ReplicaError) as exc:
                if time.monotonic() > deadline:
                    raise ReplicaError(f"replica at {ip}:{port}: {exc}") from None
                await asyncio.sleep(1.0)
        if hello.get("type") != "hello" or hello.get("protocol") != PROTOCOL:
            writer.close()
            raise ReplicaError(f"replica at {ip}:{port} speaks protocol {hello.get('protocol')}, not {PROTOCOL}")
        return Connection(reader, writer, hello, f"{ip}:{port}")

    def describe(self) -> list[dict]:
        return [
            {**{k: v for k, v in c.hello.items() if k not in ("type", "protocol")}, "address": c.peer}
            for c in self.connections
        ]

    async def parts(self, plan: Plan) -> list[dict]:
        """One measurement on the replicas, the same plan shared out as among local
        processes: each replica's snapshot, on this machine's clock."""
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
async def pool(at: str, count: int):
    """`count` replicas at `at`, connected for the block (engine.Replicas runs on them)."""
    connected = await Pool.connect(at, count)
    try:
        yield connected
    finally:
        await connected.close()
