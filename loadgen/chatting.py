"""The client side of chat rooms (loadgen/experiments/chat.py): one loadgen process's share
of the members, connected on a schedule, its senders sending on one, every member reading
every frame and timing each delivery of this run's messages.

A share is a plain dict of counts and HdrHistograms in their own encoding, so the shares
of several processes (--workers) add up exactly (`merge`): percentiles of the merged
histogram, never an average of the shares' percentiles. Every process times on the same
host's wall clock (time.time(): a message's `sent` is written by one process and read by
another), and schedules on its monotonic clock (perf_counter, shared by every process on
the host), from one start time `t0` the parent chose.

Member i (of M, numbered across every process) is in room i % R; members 0..S-1 are the
senders, members M-K..M-1 the slow readers, which never read until the run is over.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass

import aiohttp

from asynclab import chat

from .stats import Recorder

# Between the last member's connect and the first message: the server joins members to
# their groups after it accepts them.
SETTLE = 0.5
# The longest a slow reader is read at the end, and a close is waited for.
DRAIN = 5.0
CLOSE_TIMEOUT = 2.0


@dataclass(frozen=True)
class Scenario:
    backend: str
    members: int
    rooms: int
    senders: int
    message_rate: float  # messages a second, all senders together
    connect_rate: float  # members connected a second, all processes together
    duration: float  # seconds of sending
    slow_readers: int
    late: float  # a delivery later than this (seconds) is late
    grace: float  # seconds after the last send to wait for deliveries
    text_bytes: int
    run: str  # this run's id, in every message's text

    def room(self, member: int) -> str:
        return f"room-{member % self.rooms}"

    def slow(self, member: int) -> bool:
        return member >= self.members - self.slow_readers

    def connect_at(self, t0: float, member: int) -> float:
        return t0 + member / self.connect_rate

    def sending_from(self, t0: float) -> float:
        return t0 + self.members / self.connect_rate + SETTLE

    def sends(self, sender: int) -> list[float]:
        """Offsets from the start of sending of sender `sender`'s messages: the senders take
        turns, so together they send at message_rate, evenly spaced."""
        found, n = [], 0
        while (offset := (sender + n * self.senders) / self.message_rate) < self.duration:
            found.append(offset)
            n += 1
        return found

    def ends(self, t0: float) -> float:
        return self.sending_from(t0) + self.duration + self.grace


class Tally:
    """What one process saw."""

    def __init__(self) -> None:
        self.connect = Recorder()
        self.latency = Recorder()
        self.counts: Counter = Counter()
        self.closes: Counter = Counter()  # close codes the server sent
        self.connected: Counter = Counter()  # room -> normal members connected here
        self.connected_slow: Counter = Counter()
        self.sent: Counter = Counter()  # room -> messages sent from here

    def part(self) -> dict:
        return {
            "connect": self.connect.encode(),
            "latency": self.latency.encode(),
            "counts": dict(self.counts),
            "closes": {str(code): n for code, n in self.closes.items()},
            "connected": dict(self.connected),
            "connected_slow": dict(self.connected_slow),
            "sent": dict(self.sent),
        }


def ours(scenario: Scenario, data: dict) -> bool:
    return isinstance(data.get("text"), str) and data["text"].startswith(scenario.run + ":")


async def read(ws, scenario: Scenario, tally: Tally, prefix: str = "") -> None:
    """Every frame until the connection ends or the task is cancelled."""
    async for message in ws:
        if message.type != aiohttp.WSMsgType.TEXT:
            continue
        arrived = time.time()
        try:
            data = json.loads(message.data)
        except ValueError:
            tally.counts[prefix + "unreadable"] += 1
            continue
        if "error" in data:
            tally.counts[prefix + "error_frames"] += 1
        elif ours(scenario, data) and isinstance(data.get("sent"), float | int):
            tally.counts[prefix + "delivered"] += 1
            if not prefix:
                latency = max(0.0, arrived - data["sent"])
                tally.latency.record(latency)
                if latency > scenario.late:
                    tally.counts["late"] += 1
    if ws.close_code is not None and ws.close_code != 1000:
        tally.closes[ws.close_code] += 1


async def send(ws, scenario: Scenario, sender: int, start: float, tally: Tally) -> None:
    room = scenario.room(sender)
    pad = "x" * scenario.text_bytes
    for n, offset in enumerate(scenario.sends(sender)):
        await asyncio.sleep(max(0.0, start + offset - time.perf_counter()))
        if ws.closed:
            tally.counts["unsent"] += 1
            continue
        try:
            await ws.send_str(chat.frame(f"{scenario.run}:{sender}:{n}:{pad}", sent=time.time()))
        except (aiohttp.ClientError, ConnectionError, RuntimeError):
            tally.counts["unsent"] += 1
            continue
        tally.sent[room] += 1
        tally.counts["sent"] += 1


async def share(scenario: Scenario, index: int, count: int, t0: float) -> dict:
    """Process `index` of `count`: its members, connected, sending and reading until the end."""
    tally = Tally()
    cpu = time.process_time()
    mine = [i for i in range(scenario.members) if i % count == index]
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientWSTimeout(ws_close=CLOSE_TIMEOUT)
    sockets: dict[int, aiohttp.ClientWebSocketResponse] = {}
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None)) as session:

        async def join(member: int) -> None:
            await asyncio.sleep(max(0.0, scenario.connect_at(t0, member) - time.perf_counter()))
            url = scenario.backend.rstrip("/") + chat.room_path(scenario.room(member))
            started = time.perf_counter()
            try:
                async with asyncio.timeout(30):
                    ws = await session.ws_connect(url, timeout=timeout, heartbeat=None)
            except aiohttp.WSServerHandshakeError as refused:
                tally.counts["refused"] += 1
                tally.counts[f"refused_{refused.status}"] += 1
                return
            except (aiohttp.ClientError, OSError, TimeoutError):
                tally.counts["connect_failed"] += 1
                return
            tally.connect.record(time.perf_counter() - started)
            sockets[member] = ws
            (tally.connected_slow if scenario.slow(member) else tally.connected)[scenario.room(member)] += 1

        await asyncio.gather(*(join(member) for member in mine))
        start = scenario.sending_from(t0)
        readers = [asyncio.create_task(read(ws, scenario, tally)) for m, ws in sockets.items() if not scenario.slow(m)]
        senders = [send(ws, scenario, m, start, tally) for m, ws in sockets.items() if m < scenario.senders]
        await asyncio.gather(*senders)
        await asyncio.sleep(max(0.0, scenario.ends(t0) - time.perf_counter()))
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        # The slow readers read now: what the server still had for them, for at most DRAIN.
        slow = [ws for m, ws in sockets.items() if scenario.slow(m)]
        if slow:
            drains = [asyncio.create_task(read(ws, scenario, tally, prefix="slow_")) for ws in slow]
            await asyncio.wait(drains, timeout=DRAIN)
            for task in drains:
                task.cancel()
            await asyncio.gather(*drains, return_exceptions=True)
        await asyncio.gather(*(ws.close() for ws in sockets.values()), return_exceptions=True)
    # This process's own CPU over its share: one event loop reads every member's frames.
    return {**tally.part(), "cpu_seconds": time.process_time() - cpu}


def run_share(scenario: dict, index: int, count: int, t0: float) -> dict:
    """A spawned process's entry (--workers)."""
    try:
        return {"pid": os.getpid(), **asyncio.run(share(Scenario(**scenario), index, count, t0))}
    except BaseException as exc:  # the parent must hear of any end rather than wait
        return {"error": f"{type(exc).__name__}: {exc}"}


def merge(parts: list[dict]) -> dict:
    """The shares added up: counts summed, histograms added bucket by bucket."""
    connect, latency = Recorder(), Recorder()
    totals: dict[str, Counter] = {
        name: Counter() for name in ("counts", "closes", "connected", "connected_slow", "sent")
    }
    for part in parts:
        connect.add(Recorder.decode(part["connect"]))
        latency.add(Recorder.decode(part["latency"]))
        for name, total in totals.items():
            total.update(part[name])
    return {
        "connect": connect,
        "latency": latency,
        **{name: dict(total) for name, total in totals.items()},
        "cpu_seconds": [part.get("cpu_seconds") for part in parts],
    }


def deliveries(merged: dict, late_after: float) -> dict:
    """Expected, delivered, late and lost, for the members that read and the slow readers:
    a member should get every message sent to its room while it was in it (all of them:
    every member joins before the first message and stays to the end)."""
    counts, sent = merged["counts"], merged["sent"]
    expected = sum(n * merged["connected"].get(room, 0) for room, n in sent.items())
    expected_slow = sum(n * merged["connected_slow"].get(room, 0) for room, n in sent.items())
    delivered = counts.get("delivered", 0)
    slow = counts.get("slow_delivered", 0)
    return {
        "expected": expected,
        "delivered": delivered,
        "late": counts.get("late", 0),
        "late_after": late_after,
        "lost": max(0, expected - delivered),
        # More than expected: a message delivered twice (or a bug here); never hidden.
        "extra": max(0, delivered - expected),
        "slow_readers": {"expected": expected_slow, "delivered": slow, "lost": max(0, expected_slow - slow)},
    }


def scenario_dict(scenario: Scenario) -> dict:
    return asdict(scenario)
