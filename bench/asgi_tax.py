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
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
HOOK = ROOT / "bench" / "hops"
OUT = ROOT / "build" / "asgi-tax.json"
TICKS = os.sysconf("SC_CLK_TCK")
STACKS = ("bare", "lab", "lean")
VIEWS = {"async": {"bare": "/async/", "lab": "/api/async/?delay=0"}, "sync": {"bare": "/sync/", "lab": "/api/?delay=0"}}
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def base_env() -> dict[str, str]:
    # The host's own lab knobs must not leak in (DB=postgres, LEAN=..., say).
    keep = ("BACKEND_", "GATEWAY_", "DJANGO_", "DB", "POSTGRES_", "LEAN", "SERVER_MODE", "WORKERS", "THREADS")
    return {key: value for key, value in os.environ.items() if not key.startswith(keep)}


@dataclass
class Server:
    """One server process (and its workers) on a free port of 127.0.0.1."""

    mode: str
    stack: str
    hops: bool = False
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        self.scratch = tempfile.TemporaryDirectory(prefix=f"asgi-tax-{self.stack}-{self.mode}-")
        self.log_path = Path(self.scratch.name) / "server.log"
        self.hops_dir = Path(self.scratch.name) / "hops"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def path(self, view: str) -> str:
        return VIEWS[view]["bare" if self.stack == "bare" else "lab"]

    def start(self) -> Server:
        env = base_env()
        env.update(PYTHONPATH=str(ROOT), BIND_HOST="127.0.0.1", PORT=str(self.port), SERVER_MODE=self.mode)
        if self.hops:
            self.hops_dir.mkdir()
            env.update(PYTHONPATH=f"{HOOK}:{ROOT}", ASGI_TAX_HOPS_DIR=str(self.hops_dir))
        if self.stack == "bare":
            env["DJANGO_SETTINGS_MODULE"] = "bench.bare.settings"
            command = server_command(self.mode, self.port, f"bench.bare.{self.interface()}:application")
        else:
            env.update(DB_PATH=str(Path(self.scratch.name) / "db.sqlite3"), LEAN=str(self.stack == "lean").lower())
            command = [sys.executable, "-m", "asynclab.entrypoint", "backend"]
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def interface(self) -> str:
        return "wsgi" if "backend.wsgi:application" in server_command(self.mode, self.port, None) else "asgi"

    async def ready(self, session: aiohttp.ClientSession, timeout: float = 60) -> None:
        probe = self.url + (self.path("async") if self.stack == "bare" else "/healthz")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"asgi_tax: {self.stack} ({self.mode}) exited:\n{self.log_path.read_text()}")
            with contextlib.suppress(aiohttp.ClientError, OSError, asyncio.TimeoutError):
                async with session.get(probe, timeout=aiohttp.ClientTimeout(total=2)) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
        raise SystemExit(f"asgi_tax: {self.stack} ({self.mode}) not ready:\n{self.log_path.read_text()}")

    def pids(self) -> list[int]:
        """The server process and every descendant (workers, their children)."""
        parents: dict[int, int] = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    text = Path(entry.path, "stat").read_text()
                    parents[int(entry.name)] = int(text[text.rindex(")") + 2 :].split()[1])
        tree, frontier = [self.process.pid], [self.process.pid]
        while frontier:
            frontier = [pid for pid, parent in parents.items() if parent in frontier]
            tree += frontier
        return tree

    def cpu(self) -> float:
        """CPU seconds of the whole tree: utime + stime of each live process, plus
        cutime + cstime (its children that exited and were waited for)."""
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, ValueError, IndexError):
                text = Path(f"/proc/{pid}/stat").read_text()
                fields = text[text.rindex(")") + 2 :].split()
                total += sum(int(value) for value in fields[11:15])
        return total / TICKS

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
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
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


def summary(samples: list[float]) -> dict:
    median = statistics.median(samples)
    return {
        "median_us": round(median * 1e6, 1),
        "min_us": round(min(samples) * 1e6, 1),
        "spread": round((max(samples) - min(samples)) / median, 3) if median else None,
        "samples_us": [round(s * 1e6, 1) for s in samples],
    }


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

BREAKDOWN = (
    ("django, Django's handler (hops)", "django", "bare"),
    ("django, lean handler", "lean", "bare"),
    ("+ lab middleware, no access line, no edge", "lean", "middleware-noline-noedge"),
    ("+ edge checks", "lean", "middleware-noline"),
    ("+ access line (= lab middleware)", "lean", "middleware"),
    ("+ lab view (= lab stack, lean)", "lean", "lab"),
    ("lab stack, Django's handler (hops)", "django", "lab"),
)


def breakdown_child(requests: int, rounds: int) -> dict:
    """Run inside a process set up with the backend's settings: each variant's CPU per
    request through an ASGI handler called directly (uvloop, one request at a time), the
    variants interleaved. Differences between lines say what each part of the lab costs."""
    import io
    import logging

    import uvloop
    from django.core.handlers.asgi import ASGIHandler
    from django.test import override_settings

    from asynclab import edge, handler

    logging.getLogger("asynclab.access").handlers[0].stream = io.StringIO()  # no file between us and the CPU
    lab_mw = ["asynclab.middleware.timing_middleware"]
    variants = {
        "bare": dict(MIDDLEWARE=[], ROOT_URLCONF="bench.bare.urls"),
        "middleware-noline-noedge": dict(MIDDLEWARE=lab_mw, ROOT_URLCONF="bench.bare.urls"),
        "middleware-noline": dict(MIDDLEWARE=lab_mw, ROOT_URLCONF="bench.bare.urls"),
        "middleware": dict(MIDDLEWARE=lab_mw, ROOT_URLCONF="bench.bare.urls"),
        "lab": {},
    }
    paths = {"lab": ("/api/async/", b"delay=0")}

    def scope(path: str, query: bytes) -> dict:
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query,
            "root_path": "",
            "headers": [(b"host", b"127.0.0.1:8001"), (b"user-agent", b"bench"), (b"accept", b"*/*")],
            "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 8001),
        }

    async def one(app, request_scope: dict) -> int:
        done = asyncio.Event()
        inbox = [{"type": "http.request", "body": b"", "more_body": False}]
        status = []

        async def receive():
            if inbox:
                return inbox.pop()
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif not message.get("more_body"):
                done.set()

        await app(dict(request_scope), receive, send)
        return status[0]

    real_refuse, access = edge.refuse, logging.getLogger("asynclab.access")

    async def run(kind: str, variant: str, count: int) -> float:
        with override_settings(**variants[variant]):
            app = handler.LeanASGIHandler() if kind == "lean" else ASGIHandler()
            path, query = paths.get(variant, ("/async/", b""))
            edge.refuse = (lambda request: None) if variant == "middleware-noline-noedge" else real_refuse
            access.disabled = variant in ("middleware-noline-noedge", "middleware-noline")
            try:
                request_scope = scope(path, query)
                assert await one(app, request_scope) == 200
                start = time.process_time()
                for _ in range(count):
                    await one(app, request_scope)
                return (time.process_time() - start) / count
            finally:
                edge.refuse, access.disabled = real_refuse, False

    async def main() -> dict:
        samples: dict[str, list[float]] = {name: [] for name, _, _ in BREAKDOWN}
        for _name, kind, variant in BREAKDOWN:
            await run(kind, variant, max(50, requests // 10))
        for _ in range(rounds):
            for name, kind, variant in BREAKDOWN:
                samples[name].append(await run(kind, variant, requests))
        return {name: summary(values) for name, values in samples.items()}

    uvloop.install()
    return asyncio.run(main())


def breakdown(requests: int, rounds: int) -> dict:
    scratch = tempfile.TemporaryDirectory(prefix="asgi-tax-breakdown-")
    env = base_env()
    env.update(
        PYTHONPATH=str(ROOT),
        SERVER_MODE="asgi",
        DJANGO_SETTINGS_MODULE="backend.settings",
        DB_PATH=str(Path(scratch.name) / "db.sqlite3"),
        LOG_LEVEL="WARNING",
    )
    try:
        subprocess.run(
            [sys.executable, "-m", "asynclab.migrate", "backend"], cwd=ROOT, env=env, check=True, capture_output=True
        )
        done = subprocess.run(
            [sys.executable, "-m", "bench.asgi_tax", "--breakdown-child", str(requests), str(rounds)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        scratch.cleanup()
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_breakdown(found: dict) -> None:
    print("\n== where the CPU goes: the async view through a handler called in-process (no server, no socket)")
    print("   (each line adds one part to the line above; the least of the rounds beside the median, as timeit does)")
    previous = None
    for name, cell in found.items():
        step = "" if previous is None or name.startswith("lab stack") else f"  step {cell['min_us'] - previous:+7.1f}"
        median = f"median {cell['median_us']:7.1f} ({cell['spread']:4.0%})"
        print(f"  {name:44} min {cell['min_us']:7.1f} µs  {median}{step}")
        previous = cell["min_us"]


def ratios(cpu: dict) -> dict:
    return {
        view: {
            f"{stack}/bare": round(cpu[stack][view]["median_us"] / cpu["bare"][view]["median_us"], 3)
            for stack in ("lab", "lean")
        }
        for view in VIEWS
    }


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


def print_hops(mode: str, name: str, hops: dict) -> None:
    print(f"\n== {name} (SERVER_MODE={mode}): per request, sequential")
    print(f"  {'stack':6} {'view':6} {'sync_to_async':>14} {'async_to_sync':>14} {'threads started':>16}")
    for stack, views in hops.items():
        for view, counts in views.items():
            print(
                f"  {stack:6} {view:6} {counts['sync_to_async']:14.2f} {counts['async_to_sync']:14.2f}"
                f" {counts['threads_started']:16.2f}"
            )
            for site, value in counts["by_site"].items():
                print(f"      {value:5.2f}  {site}")


def print_cpu(mode: str, name: str, entry: dict) -> None:
    print(f"\n== {name} (SERVER_MODE={mode}): CPU per request (median, spread), failed={entry['failed']}")
    for stack, views in entry["cpu"].items():
        cells = "  ".join(f"{view}: {c['median_us']:7.1f} µs ({c['spread']:4.0%})" for view, c in views.items())
        print(f"  {stack:5} {cells}   idle {entry['idle_cpu_per_s'][stack] * 1000:.1f} ms/s")


def print_summary(result: dict) -> None:
    print("\n== ratios of CPU per request (targets: lab/bare <= 1.05, lean/bare <= 0.65)")
    print(f"  {'server':22} {'view':6} {'bare µs':>9} {'lab µs':>9} {'lean µs':>9} {'lab/bare':>9} {'lean/bare':>10}")
    for mode, entry in result["servers"].items():
        for view in VIEWS:
            cpu = {stack: entry["cpu"][stack][view]["median_us"] for stack in STACKS}
            r = entry["ratios"][view]
            print(
                f"  {entry['server'] + ' (' + mode + ')':22} {view:6} {cpu['bare']:9.1f} {cpu['lab']:9.1f}"
                f" {cpu['lean']:9.1f} {r['lab/bare']:9.3f} {r['lean/bare']:10.3f}"
            )


if __name__ == "__main__":
    main()
