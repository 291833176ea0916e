"""Django's ASGI tax: thread hops and CPU per request of a trivial view, the lab's backend
beside a bare Django project (bench/bare/: no apps, no middleware, no database), under
each ASGI server in the venv, with the same server options.

    make bench-tax        (about 3 min with uvicorn alone; ~1.5 min more per further server)
    .venv/bin/python -m bench.asgi_tax [--servers asgi,wsgi] [--requests 800] [--rounds 5]

Three stacks per server: `bare` (bench/bare under the server's own CLI, the lab's options),
`lab` (python -m asynclab.entrypoint backend, as shipped: DB=sqlite) and `lean` (the same
with LEAN=true). Two phases:

1. Hops: each stack once more with bench/hops/sitecustomize.py on its PYTHONPATH, which
   counts every sync_to_async / async_to_sync call and every thread started in the server
   process; 20 sequential requests per view, counts per request by call site.
2. CPU: the stacks without the counter, all started at once; rounds interleaved (the order
   rotates each round), each round N requests per stack and view at a fixed concurrency
   with aiohttp; the server's CPU time (utime + stime of the server process and every
   descendant, from /proc/<pid>/stat) per request. CPU time, not wall time: a busy machine
   stretches a round but barely changes what the server spent on it. Medians over rounds
   with their spread ((max - min) / median).

Prints versions and settings, the tables and the ratios lab/bare and lean/bare per server
and view; writes build/asgi-tax.json. A benchmark: figures, never pass/fail.

Over 250 lines: the three stacks per server, their runs and the table of figures belong to
one benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import aiohttp

from harness.live import ROOT, LiveServer

from .tax_breakdown import breakdown, breakdown_child, print_breakdown, summary
from .tax_printed import print_cpu, print_hops, print_summary, ratios
from .tax_stacks import STACKS, VIEWS

HOOK = ROOT / "bench" / "hops"
OUT = ROOT / "build" / "asgi-tax.json"
PACKAGES = (
    "django",
    "asgiref",
    "uvicorn",
    "uvloop",
    "httptools",
    "granian",
    "hypercorn",
    "h11",
    "daphne",
    "twisted",
    "gunicorn",
    "uvicorn-worker",
    "aiohttp",
)


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def modes(wanted: list[str] | None) -> dict[str, str]:
    """SERVER_MODE -> server name: every ASGI mode of the lab's registry whose packages are
    installed (or the modes asked for)."""
    from asynclab.servers import SERVERS

    if wanted is not None:
        unknown = [mode for mode in wanted if mode not in SERVERS]
        if unknown:
            raise SystemExit(f"asgi_tax: unknown SERVER_MODE {', '.join(unknown)}: choose from {', '.join(SERVERS)}")
        return {mode: SERVERS[mode].NAME for mode in wanted}
    return {
        mode: module.NAME
        for mode, module in SERVERS.items()
        if getattr(module, "INTERFACE", "asgi" if mode == "asgi" else "wsgi") == "asgi"
        and all(package_version(package) for package in getattr(module, "PACKAGES", (module.NAME,)))
    }


@contextlib.contextmanager
def environ(**values: str):
    old = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def server_command(mode: str, port: int, app: str | None) -> list[str]:
    """The lab's own argv for `mode` (asynclab/servers), the backend's app swapped for `app`:
    the bare project runs under exactly the options the lab's backend does."""
    from asynclab.servers import ServerConfig

    with environ(SERVER_MODE=mode, PORT=str(port), BIND_HOST="127.0.0.1"):
        command = ServerConfig.from_env("backend").command()
    if app is None:
        return command
    swapped = [arg.replace("backend.asgi:application", app).replace("backend.wsgi:application", app) for arg in command]
    if swapped == command:
        raise SystemExit(f"asgi_tax: cannot find the backend's application in {mode}'s command: {command}")
    return swapped


class Server:
    """One server (and its workers) of a stack on a free port of 127.0.0.1: the lab's backend
    through its entrypoint, or the bare project under the lab's exact server options."""

    def __init__(self, mode: str, stack: str, hops: bool = False) -> None:
        self.mode, self.stack, self.hops = mode, stack, hops
        self.scratch = tempfile.TemporaryDirectory(prefix=f"asgi-tax-{stack}-{mode}-")
        self.hops_dir = Path(self.scratch.name) / "hops"
        env = {"LEAN": str(stack == "lean").lower()}
        if hops:
            self.hops_dir.mkdir()
            env.update(PYTHONPATH=f"{HOOK}:{ROOT}", ASGI_TAX_HOPS_DIR=str(self.hops_dir))
        if stack == "bare":
            env["DJANGO_SETTINGS_MODULE"] = "bench.bare.settings"
        self.live = LiveServer("backend", mode, ready=self.path("async") if stack == "bare" else None, **env)
        if stack == "bare":
            self.live.command = server_command(mode, self.live.port, f"bench.bare.{self.interface()}:application")

    @property
    def url(self) -> str:
        return self.live.url

    def path(self, view: str) -> str:
        return VIEWS[view]["bare" if self.stack == "bare" else "lab"]

    def interface(self) -> str:
        return "wsgi" if "backend.wsgi:application" in server_command(self.mode, self.live.port, None) else "asgi"

    def start(self) -> Server:
        try:
            self.live.start(timeout=60)
        except RuntimeError as exc:
            raise SystemExit(f"asgi_tax: {self.stack} ({self.mode}): {exc}") from None
        return self

    async def ready(self, session: aiohttp.ClientSession) -> None:
        """Up since start(): the harness waited for its first good answer."""

    def cpu(self) -> float:
        return self.live.cpu()

    def hop_counts(self) -> Counter:
        counts: Counter = Counter()
        for path in self.hops_dir.glob("*.json"):
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(path.read_text())
                for kind in ("sync_to_async", "async_to_sync", "threads"):
                    for key, value in data[kind].items():
                        counts[(kind, key)] += value
        return counts

    def stop(self) -> None:
        self.live.stop()
        self.scratch.cleanup()


async def drive(session: aiohttp.ClientSession, url: str, requests: int, concurrency: int) -> int:
    """`requests` GETs over `concurrency` keep-alive connections; the number that failed."""
    todo = iter(range(requests))
    failed = 0

    async def client() -> None:
        nonlocal failed
        for _ in todo:
            async with session.get(url) as response:
                await response.read()
                failed += response.status != 200

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return failed


# --- Phase 1: hops ----------------------------------------------------------------------


async def count_hops(mode: str, per_view: int = 20) -> dict:
    servers = [Server(mode, stack, hops=True).start() for stack in STACKS]
    found: dict = {}
    try:
        async with aiohttp.ClientSession() as session:
            for server in servers:
                await server.ready(session)
            for server in servers:
                for view in VIEWS:
                    url = server.url + server.path(view)
                    await drive(session, url, 5, 1)  # warm: first-request work is not per request
                    await asyncio.sleep(0.3)
                    before = server.hop_counts()
                    failed = await drive(session, url, per_view, 1)
                    await asyncio.sleep(0.3)  # the tail of the last request (response.close, the join)
                    delta = server.hop_counts() - before
                    found.setdefault(server.stack, {})[view] = {
                        "failed": failed,
                        "sync_to_async": sum(v for (kind, _), v in delta.items() if kind == "sync_to_async") / per_view,
                        "async_to_sync": sum(v for (kind, _), v in delta.items() if kind == "async_to_sync") / per_view,
                        "threads_started": sum(v for (kind, _), v in delta.items() if kind == "threads") / per_view,
                        "by_site": {f"{kind}: {key}": v / per_view for (kind, key), v in sorted(delta.items())},
                    }
    finally:
        for server in servers:
            server.stop()
    return found


# --- Phase 2: CPU per request -----------------------------------------------------------


async def measure_cpu(mode: str, requests: int, concurrency: int, rounds: int) -> dict:
    servers = [Server(mode, stack).start() for stack in STACKS]
    samples: dict[tuple[str, str], list[float]] = {(s.stack, v): [] for s in servers for v in VIEWS}
    failed = 0
    try:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            for server in servers:
                await server.ready(session)
            # Idle cost: what each stack spends doing nothing (the lab's telemetry sampler).
            idle_before = {s.stack: s.cpu() for s in servers}
            await asyncio.sleep(3)
            idle = {s.stack: (s.cpu() - idle_before[s.stack]) / 3 for s in servers}
            for server in servers:  # warm: first requests, connections, caches
                for view in VIEWS:
                    await drive(session, server.url + server.path(view), max(50, requests // 10), concurrency)
            for round_ in range(rounds):
                order = servers[round_ % len(servers) :] + servers[: round_ % len(servers)]
                for server in order:
                    for view in VIEWS:
                        await asyncio.sleep(0.1)
                        before = server.cpu()
                        failed += await drive(session, server.url + server.path(view), requests, concurrency)
                        await asyncio.sleep(0.1)  # the last requests' tail runs after their response
                        samples[(server.stack, view)].append((server.cpu() - before) / requests)
    finally:
        for server in servers:
            server.stop()
    cpu = {stack: {view: summary(samples[(stack, view)]) for view in VIEWS} for stack in STACKS}
    return {"cpu": cpu, "idle_cpu_per_s": {k: round(v, 4) for k, v in idle.items()}, "failed": failed}


# --- Phase 3: where the lab's CPU goes (in one process, no server) ---------------------


def main() -> None:
    if sys.argv[1:2] == ["--breakdown-child"]:
        import django

        django.setup()
        print(json.dumps(breakdown_child(int(sys.argv[2]), int(sys.argv[3]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", help="comma-separated SERVER_MODEs (default: every installed ASGI server)")
    parser.add_argument("--requests", type=int, default=800, help="requests per round, stack and view (100..100000)")
    parser.add_argument("--concurrency", type=int, default=4, help="connections in flight (1..64)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (3..21)")
    parser.add_argument("--no-hops", action="store_true", help="skip the hop count")
    parser.add_argument("--no-breakdown", action="store_true", help="skip the in-process breakdown")
    args = parser.parse_args()
    if not (100 <= args.requests <= 100_000 and 1 <= args.concurrency <= 64 and 3 <= args.rounds <= 21):
        parser.error("--requests 100..100000, --concurrency 1..64, --rounds 3..21")
    found = modes(args.servers.split(",") if args.servers else None)
    if not found:
        parser.error("no server mode to measure")
    versions = {"python": platform.python_version(), **{p: package_version(p) for p in PACKAGES}}
    settings = {
        "requests": args.requests,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "workers": 1,
        "cores": os.cpu_count(),
        "modes": found,
        "lab": "python -m asynclab.entrypoint backend (DB=sqlite)",
        "lean": "the same with LEAN=true",
        "bare": "bench/bare under the same server command",
    }
    print(f"asgi_tax: {json.dumps(versions)}")
    print(f"asgi_tax: {json.dumps(settings)}")
    result: dict = {"versions": versions, "settings": settings, "servers": {}}
    started = time.monotonic()
    for mode, name in found.items():
        entry: dict = {"server": name}
        if not args.no_hops:
            entry["hops"] = asyncio.run(count_hops(mode))
            print_hops(mode, name, entry["hops"])
        entry.update(asyncio.run(measure_cpu(mode, args.requests, args.concurrency, args.rounds)))
        entry["ratios"] = ratios(entry["cpu"])
        print_cpu(mode, name, entry)
        result["servers"][mode] = entry
    if not args.no_breakdown:
        result["breakdown"] = breakdown(2000, args.rounds)
        print_breakdown(result["breakdown"])
    result["seconds"] = round(time.monotonic() - started, 1)
    print_summary(result)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"asgi_tax: wrote {OUT.relative_to(ROOT)} ({result['seconds']} s)")


if __name__ == "__main__":
    main()
