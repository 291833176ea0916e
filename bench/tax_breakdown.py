"""Phase 3 of `make bench-tax`: where the lab's CPU per request goes, in one process and no
server. A child process set up with the backend's settings calls each variant's ASGI
handler directly (uvloop, one request at a time), the variants interleaved; the difference
between two lines is what that part of the lab costs."""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.live import ROOT, serve_env


def summary(samples: list[float]) -> dict:
    median = statistics.median(samples)
    return {
        "median_us": round(median * 1e6, 1),
        "min_us": round(min(samples) * 1e6, 1),
        "spread": round((max(samples) - min(samples)) / median, 3) if median else None,
        "samples_us": [round(s * 1e6, 1) for s in samples],
    }


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
    env = serve_env()
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
