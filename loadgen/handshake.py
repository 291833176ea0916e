"""Who may command a loadgen replica: only a conductor that holds the replicas' secret.

A replica listens on the stack's overlay networks, which any container attached to them
reaches (and, on a swarm of several hosts, anything that reaches the overlay). Before it
says anything else, it asks every connection to prove it holds the secret the replicas and
their conductor share (LOADGEN_SECRET_FILE, a compose/Swarm secret), by challenge and
response, with an HMAC:

    replica   -> {"type": "challenge", "protocol": 2, "nonce": R}
    conductor -> {"type": "proof", "nonce": C, "mac": HMAC(secret, "conductor R C")}
    replica   -> {"type": "hello", ..., "mac": HMAC(secret, "replica C R")}
                 or {"type": "refused"}, and it closes

The secret never crosses the wire. Both nonces are in each MAC and the replica draws a
fresh R for every connection, so a proof recorded on one connection fails on the next; a
MAC names its side, so a replica's answer cannot be sent back to it as a proof. The
conductor checks the replica's MAC in turn, and hands its plans only to a replica that
holds the secret too.

A connection gets HANDSHAKE_TIMEOUT to prove itself; at most MAX_PENDING may be proving
themselves at once (more are closed at once); neither holds the replica's one conductor
slot, which only a proved connection takes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import secrets
import sys
import time
from pathlib import Path

from asynclab.knobs import KNOBS

from .wire import PLAN_LINE, PROTOCOL, ReplicaError, encode, receive

# The secret's file: compose's and Swarm's mount in a container, make's in a checkout.
MOUNTED = "/run/secrets/loadgen_secret"
WRITTEN = KNOBS["LOADGEN_SECRET_FILE"].default
# How long an unproved connection may stay, and how many may be proving themselves at once.
HANDSHAKE_TIMEOUT = 5.0
MAX_PENDING = 64
# make secrets writes 43 characters (32 random bytes); a hand-made secret needs as many bytes.
MIN_SECRET = 32
MAX_SECRET = 4096
NONCE_BYTES = 32
_NONCE = re.compile(rf"[0-9a-f]{{{2 * NONCE_BYTES}}}")
# A refusal's log lines per second at most: a flood of connections must not flood the log.
LOG_RATE = 10


class SecretError(ValueError):
    """No usable secret: a replica does not start, a conductor does not connect."""


class Busy(ReplicaError):
    """The replica took the proof but serves another conductor: try again later."""


class Refused(ReplicaError):
    """The other side did not prove it holds the secret, or speaks another protocol: trying
    again would change nothing."""


def default_secret_file() -> str:
    """Where compose and Swarm mount the secret in loadgen's containers, when it is there;
    else where make secrets writes it in a checkout (for loadgen on the host)."""
    return MOUNTED if Path(MOUNTED).is_file() else WRITTEN


def read_secret(path: str | Path | None) -> bytes:
    """The shared secret in `path`, stripped of surrounding white space."""
    if not path or not str(path).strip():
        raise SecretError(
            "no secret: LOADGEN_SECRET_FILE (--secret-file) must name the file the replicas and "
            "their conductor share (make secrets writes one)"
        )
    try:
        data = Path(path).read_bytes()[: MAX_SECRET + 1].strip()
    except OSError as exc:
        raise SecretError(f"the secret file {path}: {exc.strerror} (make secrets writes one)") from None
    if not MIN_SECRET <= len(data) <= MAX_SECRET:
        raise SecretError(f"the secret in {path} is {len(data)} bytes; it must be {MIN_SECRET} to {MAX_SECRET}")
    return data


def nonce() -> str:
    return secrets.token_hex(NONCE_BYTES)


def mac(secret: bytes, side: str, first: str, second: str) -> str:
    """HMAC-SHA256 of the side that proves and both nonces, the other side's first."""
    return hmac.new(secret, f"asynclab-loadgen/{PROTOCOL} {side} {first} {second}".encode(), hashlib.sha256).hexdigest()


def proves(secret: bytes, side: str, first: str, second: str, claimed: object) -> bool:
    return isinstance(claimed, str) and hmac.compare_digest(mac(secret, side, first, second), claimed)


def is_nonce(value: object) -> bool:
    return isinstance(value, str) and _NONCE.fullmatch(value) is not None


async def demand_proof(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, secret: bytes) -> tuple[str, str]:
    """The replica's side: a challenge, then the conductor's proof within HANDSHAKE_TIMEOUT.
    (the replica's nonce, the conductor's); Refused, saying why, for anything else."""
    mine = nonce()
    try:
        async with asyncio.timeout(HANDSHAKE_TIMEOUT):
            writer.write(encode({"type": "challenge", "protocol": PROTOCOL, "nonce": mine}))
            await writer.drain()
            message = await receive(reader, limit=PLAN_LINE)
    except TimeoutError:
        raise Refused(f"no proof within {HANDSHAKE_TIMEOUT:g} s") from None
    except ReplicaError as exc:
        raise Refused(f"no proof: {exc}") from None
    if message["type"] != "proof":
        raise Refused(f"expected a proof, got {message['type'][:20]!r}")
    theirs = message.get("nonce")
    if not is_nonce(theirs):
        raise Refused("a proof without a nonce")
    if not proves(secret, "conductor", mine, theirs, message.get("mac")):
        raise Refused("a wrong proof")
    return mine, theirs


def refusal() -> bytes:
    """What a connection that failed the proof is told before the replica closes it."""
    return encode({"type": "refused", "error": "not proved: the conductor's secret is not this replica's"})


def hello(secret: bytes, mine: str, theirs: str, about: dict) -> bytes:
    """The replica's answer to a good proof: who it is, and its own proof."""
    return encode({"type": "hello", "protocol": PROTOCOL, **about, "mac": mac(secret, "replica", theirs, mine)})


async def prove(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, secret: bytes, timeout: float) -> dict:
    """The conductor's side: answer the replica's challenge and check its answer; its hello."""
    challenge = await receive(reader, timeout)
    if challenge["type"] != "challenge" or challenge.get("protocol") != PROTOCOL:
        raise Refused(f"speaks protocol {challenge.get('protocol')}, not {PROTOCOL}")
    if not is_nonce(challenge.get("nonce")):
        raise ReplicaError("a challenge without a nonce")
    mine = nonce()
    writer.write(encode({"type": "proof", "nonce": mine, "mac": mac(secret, "conductor", challenge["nonce"], mine)}))
    await writer.drain()
    answer = await receive(reader, timeout)
    if answer["type"] == "busy":
        raise Busy(str(answer.get("error")))
    if answer["type"] == "refused":
        raise Refused(
            "refused our proof: the conductor's secret (LOADGEN_SECRET_FILE) is not the replicas' "
            "(the stack's was read when it was deployed)"
        )
    if answer["type"] != "hello" or not proves(secret, "replica", mine, challenge["nonce"], answer.get("mac")):
        raise Refused("did not prove it holds the secret: not one of the lab's replicas")
    return {key: value for key, value in answer.items() if key != "mac"}


def peer(writer: asyncio.StreamWriter) -> str:
    address = writer.get_extra_info("peername")
    return f"{address[0]}:{address[1]}" if isinstance(address, tuple) else str(address)


class Gate:
    """How many connections are proving themselves at once, at most `limit`."""

    def __init__(self, limit: int = MAX_PENDING) -> None:
        self.limit, self.pending = limit, 0

    def enter(self) -> bool:
        if self.pending >= self.limit:
            return False
        self.pending += 1
        return True

    def leave(self) -> None:
        self.pending -= 1


class Log:
    """The replica's events on stderr, one JSON object a line; refusals at most LOG_RATE a
    second, the rest counted into the next line that is written."""

    def __init__(self, rate: int = LOG_RATE) -> None:
        self.rate, self.second, self.written, self.dropped = rate, 0, 0, 0

    def event(self, event: str, **fields: object) -> None:
        print(json.dumps({"event": event, **fields}), file=sys.stderr, flush=True)

    def refused(self, who: str, why: str) -> None:
        now = int(time.monotonic())
        if now != self.second:
            self.second, self.written = now, 0
        if self.written >= self.rate:
            self.dropped += 1
            return
        self.written += 1
        extra = {"also_refused": self.dropped} if self.dropped else {}
        self.dropped = 0
        self.event("replica-refused", peer=who, why=why, **extra)
