"""`chat`: M members in R WebSocket rooms of the backend (docs/chat.md), S of them sending.

Members are connected at --connect-rate (member i to room i % R), then the first S send
--message-rate messages a second between them, evenly spaced, for --duration; each message
carries loadgen's send time, so every delivery of it to every member of its room (the sender
included) is timed, send -> receive, into one HdrHistogram (merged exactly over --workers).
Deliveries: expected (messages sent to a room x its members), delivered, late (later than
--late), lost (never arrived by --grace after the last send). Also: connect time, refusals,
close codes, and the backend's threads and RSS per member and CPU per delivery from its
/telemetry, with its own count of members and frames (/chat) after the run.

--slow-readers K: the last K members never read until sending is over, then are read for
at most a few seconds: what they got then, what the room's other members' latency was
meanwhile, and what the server's memory and the layer (/chat's layer_full: messages the
in-memory layer dropped for a full member) did. Measured, not guessed.

Bounded: every option has a range, and the run ends at connect + duration + grace (+ the
slow readers' drain) whatever the server does.

Over 250 lines: options, run and figures belong together (members' loop: loadgen/chatting.py).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import secrets
import time

import aiohttp

from asynclab.api import CHAT_GAUGE

from .. import chatcost
from .. import chatting as shares
from ..lab import Lab
from ..options import at_most, duration, option, positive
from ..probe import environment
from ..sampler import Sampler
from ..streaming import SPARE_FDS, file_limit
from ..units import format_duration
from ..workers import SPAWN

HELP = "M members in R WebSocket rooms, S senders: deliveries expected/delivered/late/lost, latency, cost per member"

MAX_MEMBERS = 20_000
# Spawned processes import loadgen before they can connect: the shared start is this far off.
SPAWN_MARGIN = 3.0


def bounded_duration(low: float, high: float):
    def parse(text: str) -> float:
        value = duration(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low:g} s to {high:g} s: {text!r}")
        return value

    parse.__name__ = "duration"
    return parse


def options(parser) -> None:
    option(parser, "--members", env="LOADGEN_MEMBERS", default=100, type=positive(int, MAX_MEMBERS), help="members")
    option(parser, "--rooms", env="LOADGEN_ROOMS", default=2, type=positive(int, 1000), help="rooms (at most members)")
    option(
        parser,
        "--senders",
        env="LOADGEN_SENDERS",
        default=2,
        type=positive(int, MAX_MEMBERS),
        help="members that send (the first ones: sender j is in room j %% rooms)",
    )
    option(
        parser,
        "--message-rate",
        env="LOADGEN_MESSAGE_RATE",
        default=10.0,
        type=positive(float, 10_000),
        dest="message_rate",
        help="messages a second, all senders together (each sender's share must stay under CHAT_MEMBER_RATE)",
    )
    option(
        parser,
        "--connect-rate",
        env="LOADGEN_CONNECT_RATE",
        default=200.0,
        type=positive(float, 5000),
        dest="connect_rate",
        help="members connected a second",
    )
    option(
        parser,
        "--duration",
        env="LOADGEN_DURATION",
        default=10.0,
        type=bounded_duration(0.1, 3600),
        help="seconds of sending",
    )
    option(
        parser,
        "--slow-readers",
        env="LOADGEN_SLOW_READERS",
        default=0,
        type=at_most(int, MAX_MEMBERS),
        dest="slow_readers",
        help="members (the last ones) that do not read until sending is over",
    )
    option(
        parser,
        "--late",
        env="LOADGEN_LATE",
        default=1.0,
        type=bounded_duration(0.001, 60),
        help="a delivery later than this is late",
    )
    option(
        parser,
        "--grace",
        env="LOADGEN_GRACE",
        default=2.0,
        type=bounded_duration(0, 60),
        help="time after the last send for deliveries to arrive; later ones are lost",
    )
    option(
        parser,
        "--text-bytes",
        env="LOADGEN_TEXT_BYTES",
        default=32,
        type=at_most(int, 8192),
        dest="text_bytes",
        help="padding in each message's text",
    )
    option(
        parser,
        "--workers",
        env="LOADGEN_WORKERS",
        default=1,
        type=positive(int, 16),
        help="loadgen processes, one event loop each; members split among them",
    )


def check(members: int, rooms: int, senders: int, slow_readers: int) -> None:
    if rooms > members:
        raise SystemExit(f"loadgen chat: --rooms {rooms} is more than --members {members}")
    if senders + slow_readers > members:
        raise SystemExit(
            f"loadgen chat: --senders {senders} and --slow-readers {slow_readers} are more than --members {members}"
        )


async def command(args, lab: Lab) -> dict:
    return await run(
        lab,
        members=args.members,
        rooms=args.rooms,
        senders=args.senders,
        message_rate=args.message_rate,
        connect_rate=args.connect_rate,
        duration=args.duration,
        slow_readers=args.slow_readers,
        late=args.late,
        grace=args.grace,
        text_bytes=args.text_bytes,
        workers=args.workers,
    )


async def gauge(backend: str) -> dict | None:
    """The backend's /chat: the members and frames of whichever worker answers."""
    try:
        async with aiohttp.ClientSession() as session, asyncio.timeout(5):
            async with session.get(backend.rstrip("/") + CHAT_GAUGE) as response:
                return await response.json(content_type=None) if response.status == 200 else None
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None


async def measure(scenario: shares.Scenario, workers: int, t0: float) -> list[dict]:
    """Every share's tally: in this process, or in `workers` spawned ones, from start `t0`."""
    if workers == 1:
        return [await shares.share(scenario, 0, 1, t0)]
    loop = asyncio.get_running_loop()
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=SPAWN) as pool:
        parts = await asyncio.gather(
            *(
                loop.run_in_executor(pool, shares.run_share, shares.scenario_dict(scenario), i, workers, t0)
                for i in range(workers)
            )
        )
    failed = [part["error"] for part in parts if "error" in part]
    if failed:
        raise SystemExit(f"loadgen chat: a worker failed: {failed[0]}")
    return parts


async def run(
    lab: Lab,
    members: int = 100,
    rooms: int = 2,
    senders: int = 2,
    message_rate: float = 10.0,
    connect_rate: float = 200.0,
    duration: float = 10.0,
    slow_readers: int = 0,
    late: float = 1.0,
    grace: float = 2.0,
    text_bytes: int = 32,
    workers: int = 1,
) -> dict:
    check(members, rooms, senders, slow_readers)
    env = await environment(lab)
    backend_health = env.get("backend") or {}
    if not backend_health:
        raise SystemExit(f"loadgen chat: the backend at {lab.backend} does not answer /healthz")
    # The rooms are the backend's: its mode is the run's, whatever the gateway runs.
    env["server_mode"] = backend_health.get("server_mode")
    fds = file_limit(members // workers + 1 + SPARE_FDS)
    if not fds["fits"]:
        raise SystemExit(
            f"loadgen chat: {members} members need about {fds['needed']} open files per process; "
            f"loadgen may open {fds['soft']} (ulimit -n): raise it, lower --members or add --workers"
        )
    scenario = shares.Scenario(
        backend=lab.backend,
        members=members,
        rooms=rooms,
        senders=senders,
        message_rate=message_rate,
        connect_rate=connect_rate,
        duration=duration,
        slow_readers=slow_readers,
        late=late,
        grace=grace,
        text_bytes=text_bytes,
        run=secrets.token_hex(4),
    )
    before = await gauge(lab.backend)
    start = time.perf_counter()
    # Spawned processes import loadgen before they can connect: their shared start is later.
    t0 = start + (0.2 if workers == 1 else SPAWN_MARGIN)
    async with Sampler({"backend": lab.backend}) as sampler:
        parts = await measure(scenario, workers, t0)
        ended = time.perf_counter()
    merged = shares.merge(parts)
    after = await gauge(lab.backend)
    counts = merged["counts"]
    connected = sum(merged["connected"].values()) + sum(merged["connected_slow"].values())
    found = shares.deliveries(merged, late)
    services = sampler.summary()
    backend_seen = services.get("backend")
    sending = sampler.summary((scenario.sending_from(t0), scenario.ends(t0))).get("backend")
    all_delivered = found["delivered"] + found["slow_readers"]["delivered"]
    layer = (after or {}).get("layer")
    server_workers = (backend_health.get("server") or {}).get("workers")
    result = {
        "experiment": "chat",
        # One result per layer and worker count: each is an experiment of its own in the report.
        "variant": f"{layer or 'unknown'}-{server_workers or 1}w",
        "environment": env,
        "scenario": {
            **{k: v for k, v in shares.scenario_dict(scenario).items() if k not in ("backend", "run")},
            "workers": workers,
            "layer": layer,
            "server_workers": server_workers,
            "loadgen_nofile": fds,
        },
        "wall": round(ended - start, 2),
        "connect": {
            "attempted": members,
            "connected": connected,
            "refused": counts.get("refused", 0),
            "failed": counts.get("connect_failed", 0),
            "time": merged["connect"].summary(),
            "histogram": merged["connect"].saved(),
        },
        "messages": {
            "sent": counts.get("sent", 0),
            "unsent": counts.get("unsent", 0),
            "error_frames": counts.get("error_frames", 0) + counts.get("slow_error_frames", 0),
            "closes": merged["closes"],
            "sent_per_room": merged["sent"],
        },
        "deliveries": found,
        "latency": merged["latency"].summary(),
        "latency_histogram": merged["latency"].saved(),
        # loadgen's own CPU per process over the run: near a whole core, loadgen, not the
        # server, may be what made deliveries late.
        "loadgen": {
            "cpu_seconds": [round(cpu, 3) for cpu in merged["cpu_seconds"]],
            "cpu_share_max": round(max(merged["cpu_seconds"]) / (ended - start), 3) if ended > start else None,
        },
        "server": {
            "services": services,
            "sending": sending,
            "per": chatcost.backend(backend_seen, sending, connected, all_delivered),
            "redis": chatcost.redis(before, after, ended - start, all_delivered),
            "gauge_before": before,
            "gauge_after": after,
            # Counted by the worker that answered /chat only: with WORKERS > 1, one of them.
            "layer_full": None if after is None or before is None else after["layer_full"] - before["layer_full"],
        },
    }
    if lab.progress is not False:
        print("  " + line(result), flush=True)
    return result


def line(result: dict) -> str:
    d, c, lat = result["deliveries"], result["connect"], result["latency"]
    s = result["scenario"]
    per_ = result["server"]["per"] or {}
    slow = d["slow_readers"]
    text = (
        f"{s['members']} members in {s['rooms']} rooms ({c['connected']} connected, {c['refused']} refused, "
        f"{c['failed']} failed; connect p50 {format_duration(c['time']['p50'])}), "
        f"{result['messages']['sent']} messages: deliveries expected {d['expected']}, delivered {d['delivered']}, "
        f"late {d['late']}, lost {d['lost']}; latency p50 {format_duration(lat['p50'])} "
        f"p99 {format_duration(lat['p99'])} max {format_duration(lat['max'])} ({lat['count']} timed)"
    )
    if s["slow_readers"]:
        text += f"; slow readers got {slow['delivered']} of {slow['expected']}"
        if result["server"]["layer_full"] is not None:
            text += f", layer dropped {result['server']['layer_full']}"
    if per_.get("rss_bytes_per_member") is not None:
        text += (
            f"; backend per member {per_['threads_per_member']:.3f} thr, {per_['rss_bytes_per_member'] / 1024:.1f} KiB"
        )
    if per_.get("cpu_ms_per_delivery") is not None:
        text += f", {per_['cpu_ms_per_delivery']:.3f} CPU ms per delivery"
    if per_.get("cpu_share_sending") is not None:
        text += f"; backend CPU {per_['cpu_share_sending']:.0%} of a core while sending"
    if result["loadgen"]["cpu_share_max"] is not None:
        text += f", loadgen {result['loadgen']['cpu_share_max']:.0%} (busiest process)"
    redis = result["server"].get("redis") or {}
    if redis.get("cpu_share") is not None:
        text += f"; Redis {redis['cpu_share']:.0%} of a core, {redis['memory_bytes'] / 2**20:.1f} MiB"
        if redis["cpu_ms_per_delivery"] is not None:
            text += f", {redis['cpu_ms_per_delivery']:.3f} CPU ms per delivery"
    elif redis.get("error"):
        text += f"; Redis not read ({redis['error']})"
    return text
