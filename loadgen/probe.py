"""Checks before load: is the target right (verify), are the services idle (drain), and
what is being measured (environment)."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import parse_qs, urlsplit

import aiohttp

from . import machine
from .stopped import JOURNAL


class BrokenTarget(RuntimeError):
    """The target does not answer as expected: measuring it would measure a failure."""


async def _get(session: aiohttp.ClientSession, url: str, timeout: float) -> tuple[int, object, float]:
    start = time.perf_counter()
    async with asyncio.timeout(timeout):
        async with session.get(url) as response:
            try:
                body = await response.json(content_type=None)
            except ValueError:
                body = None
            return response.status, body, time.perf_counter() - start


async def verify(url: str, timeout: float = 60.0, allow_errors: bool = False) -> dict:
    """One request, as TechEmpower's verification does: 200 and the expected JSON, or refuse.

    An aggregation must return all n responses and no errors, unless `allow_errors` (an
    experiment whose point is that calls fail). Returns the body.
    """
    async with aiohttp.ClientSession() as session:
        try:
            status, body, elapsed = await _get(session, url, timeout)
        except TimeoutError:
            raise BrokenTarget(f"{url}: no answer within {timeout:g} s") from None
        except aiohttp.ClientError as exc:
            raise BrokenTarget(f"{url}: {type(exc).__name__}: {exc}") from None
    aggregation = isinstance(body, dict) and "responses" in body and "errors" in body
    expected = int(parse_qs(urlsplit(url).query).get("n", [10])[0]) if aggregation else 0
    if aggregation and allow_errors and status in (200, 502):
        return body
    if aggregation and body["errors"]:
        kinds = sorted({str(e.get("kind")) for e in body["errors"]})
        raise BrokenTarget(f"{url}: {len(body['errors'])} of {expected} calls failed ({', '.join(kinds)})")
    if status != 200:
        raise BrokenTarget(f"{url}: HTTP {status}: {json.dumps(body)[:200] if body is not None else 'no JSON body'}")
    if not isinstance(body, dict):
        raise BrokenTarget(f"{url}: the answer is not a JSON object")
    if aggregation:
        if len(body["responses"]) != expected:
            raise BrokenTarget(f"{url}: {len(body['responses'])} responses, expected {expected}")
    # The slow views answer a message, /healthz a status, /api/cpu/ its own CPU time.
    elif "message" not in body and body.get("status") != "ok" and "cpu_ms" not in body:
        raise BrokenTarget(f"{url}: unexpected answer {body!r:.200}")
    return body


async def drain(probes: list[tuple[str, int]], quick: float = 0.25, timeout: float = 120.0) -> dict:
    """Wait until every service is idle: a burst of `width` zero-work probes all answer in
    under `quick` seconds, twice in a row. A burst as wide as the service's thread count
    finds even one thread still busy with an abandoned call, which would otherwise steal
    capacity from the next scenario. Returns {"drained": bool, "waited": seconds}.
    """
    start = time.perf_counter()
    clean = 0
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() - start < timeout:
            slowest = 0.0
            for url, width in probes:
                try:
                    results = await asyncio.gather(*(_get(session, url, timeout) for _ in range(width)))
                    slowest = max([slowest] + [elapsed for _, _, elapsed in results])
                    if any(status != 200 for status, _, _ in results):
                        slowest = float("inf")
                except (aiohttp.ClientError, TimeoutError):
                    slowest = float("inf")
            clean = clean + 1 if slowest < quick else 0
            if clean >= 2:
                return {"drained": True, "waited": round(time.perf_counter() - start, 3)}
            await asyncio.sleep(0.25)
    return {"drained": False, "waited": round(time.perf_counter() - start, 3)}


def width(health: dict | None) -> int:
    """How many probes it takes to touch every thread of a service (from its /healthz)."""
    if not health:
        return 1
    server = health.get("server", {})
    return max(1, min(64, (server.get("workers") or 1) * (server.get("threads") or 10)))


async def health(url: str) -> dict | None:
    try:
        async with aiohttp.ClientSession() as session:
            status, body, _ = await _get(session, url.rstrip("/") + "/healthz", 5)
        return body if status == 200 and isinstance(body, dict) else None
    except (aiohttp.ClientError, TimeoutError):
        return None


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def free_threaded(health: dict | None) -> bool | None:
    """Whether a result may call this service free-threaded, from its /healthz: only a
    free-threaded build whose every worker reports the GIL off (asynclab/gil.py). A build
    whose imports turned the GIL back on is not, whatever PYTHON it was started with. None:
    no health, or a service too old to say."""
    gil = (health or {}).get("gil")
    if not isinstance(gil, dict) or not isinstance(gil.get("workers"), dict):
        return None
    workers = list(gil["workers"].values())
    return bool(gil.get("free_threaded_build")) and bool(workers) and all(value is False for value in workers)


def _warn_gil(name: str, health: dict | None) -> None:
    gil = (health or {}).get("gil") or {}
    if gil.get("free_threaded_build") and not free_threaded(health):
        why = gil.get("reenabled_by") or "unknown"
        print(f"loadgen: the {name} is a free-threaded build running WITH the GIL ({why})", file=sys.stderr)


async def environment(lab) -> dict:
    """What every result records: both services' mode, workers, threads and versions (from
    their /healthz), loadgen's own side (and its replicas when lab.engine has them), and
    the machine's cores, CPU, kernel and memory."""
    gateway_health, backend_health = await asyncio.gather(health(lab.gateway), health(lab.backend))
    for name, found in (("gateway", gateway_health), ("backend", backend_health)):
        _warn_gil(name, found)
    found = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "server_mode": (gateway_health or {}).get("server_mode"),
        "gateway": gateway_health,
        "backend": backend_health,
        # Judged here from each worker's own report, never from the PYTHON a run asked for.
        "free_threaded": {"gateway": free_threaded(gateway_health), "backend": free_threaded(backend_health)},
        "loadgen": {
            "python": platform.python_version(),
            "aiohttp": _version("aiohttp"),
            "hdrhistogram": _version("hdrhistogram"),
            "cpu_count": os.cpu_count(),
            "host": platform.node(),
            # Where the load came from when replicas generated it (engine.Replicas): each
            # one's node, task slot, container and cores.
            **lab.engine.describe(),
        },
        "machine": machine.describe(),
        "git_commit": os.environ.get("GIT_COMMIT") or None,
    }
    # What a run stopped by a signal records as its environment (loadgen/stopped.py).
    JOURNAL.environment = found
    return found
