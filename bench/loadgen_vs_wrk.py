"""Benchmark: loadgen against wrk (and an httpx-based loop) on the same targets, side by side.

    make bench        # or: .venv/bin/python -m bench.loadgen_vs_wrk [--duration 10] [--rounds 3]

Starts a backend and a gateway on 127.0.0.1 (the real entrypoint), then for each target
runs every tool at the same concurrency for the same time, in alternating order, and prints
medians over the rounds and the ratios loadgen/wrk. It checks loadgen's targets: throughput
within +-10 % of wrk's, p50 within +-15 %, >= 1,500 req/s on the trivial endpoint, and
prints loadgen's CPU per 1,000 requests. A benchmark, not a test: machines are noisy, so
read the medians and ratios, and the settings printed with them.

wrk is installed from Debian's packages if missing (needs root).

Over 250 lines: the targets, the three tools' runners and the side-by-side table belong to
one benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from harness.live import ROOT, LiveServer, free_port

# loadgen's targets against wrk, the same in the README (tests/test_docs.py reads both).
RPS_WITHIN = 0.10
P50_WITHIN = 0.15
CAPACITY = 1500
WRK_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


TOOL_NAMES = {
    "wrk": "wrk (C, all connections at once)",
    "loadgen": "loadgen, workers at once (= wrk)",
    "ramped": "loadgen, ramped (its default)",
    "httpx": "httpx engine (not chosen)",
}


class RawServer:
    """bench/trivial.py under uvicorn on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> RawServer:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.trivial:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("bench.trivial did not start")

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(10)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk from Debian's packages ...", file=sys.stderr)
    subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", "wrk"], check=False, stdout=subprocess.DEVNULL
    )
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "wrk"], check=True, stdout=subprocess.DEVNULL
        )
    return shutil.which("wrk")


def wrk(url: str, concurrency: int, duration: float) -> dict:
    # A 60 s timeout like loadgen's: wrk's default 2 s would drop slow responses.
    out = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{duration:g}s", "--timeout", "60s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M).groups()
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50": float(value) * WRK_UNITS[unit], "errors": errors.group(1) if errors else None}


def loadgen(url: str, concurrency: int, duration: float, folder: Path, ramp: bool) -> dict:
    """ramp=False starts every worker at once, as wrk does (workers against a steady server
    then stay in lock-step); ramp=True is loadgen's default: workers spread over a warm-up."""
    for old in folder.glob("*.json"):
        old.unlink()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "loadgen",
            "run",
            url,
            "-c",
            str(concurrency),
            "-d",
            f"{duration:g}s",
            "--warmup",
            "2s" if ramp else "0",
            "--no-drain",
            "--no-verify",
            "--quiet",
            "--results",
            str(folder),
            "--gateway",
            url,
            "--backend",
            url,
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    figures = json.loads(next(folder.glob("*.json")).read_text())["figures"]
    return {
        "rps": figures["rps"],
        "p50": figures["p50"],
        "errors": figures["errors"],
        "cpu_ms_per_1000": figures["loadgen"]["cpu_ms_per_1000"],
        "cpu_share": figures["loadgen"]["cpu_share"],
    }


async def _httpx_loop(url: str, concurrency: int, duration: float) -> dict:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        end = time.perf_counter() + duration
        cpu0, wall0 = time.process_time(), time.perf_counter()

        async def worker():
            nonlocal errors
            while time.perf_counter() < end:
                start = time.perf_counter()
                try:
                    await (await client.get(url)).aread()
                except httpx.HTTPError:
                    errors += 1  # e.g. a keep-alive connection the server had closed
                    continue
                latencies.append(time.perf_counter() - start)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "rps": len(latencies) / wall,
        "p50": statistics.median(latencies),
        "errors": errors,
        "cpu_ms_per_1000": 1e6 * cpu / len(latencies),
        "cpu_share": cpu / wall,
    }


def httpx_loop(url: str, concurrency: int, duration: float) -> dict:
    """The engine loadgen did not choose: one httpx.AsyncClient, same closed loop."""
    return asyncio.run(_httpx_loop(url, concurrency, duration))


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per tool per round (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, tool order alternating (default 3)")
    parser.add_argument("--no-httpx", action="store_true", help="skip the httpx engine")
    args = parser.parse_args()
    ensure_wrk()
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0].strip()

    # One server process per target, so the server has one core and the load tool the
    # other: on two shared cores, CPU a tool spends is otherwise taken from the server.
    backend = LiveServer("backend", "wsgi", WORKERS=1, THREADS=4).start()
    aggregate_backend = LiveServer("backend", "asgi").start()
    gateway = LiveServer("gateway", "asgi", BACKEND_URL=aggregate_backend.url).start()
    raw = RawServer().start()
    targets = [
        ("capacity: raw ASGI hello, no Django (uvicorn 1 worker)", raw.url + "/", 50),
        ("trivial: backend /api/?delay=0 (gunicorn gthread 1x4)", backend.url + "/api/?delay=0", 50),
        (
            "aggregated: gateway gather n=10 delay=0.5 (uvicorn)",
            gateway.url + "/api/aggregated/?n=10&delay=0.5&target=async",
            5,
        ),
    ]
    tools = {"wrk": wrk, "loadgen": None, "ramped": None, "httpx": httpx_loop}
    if args.no_httpx:
        del tools["httpx"]
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tools["loadgen"] = lambda url, c, d: loadgen(url, c, d, Path(tmp), ramp=False)
            tools["ramped"] = lambda url, c, d: loadgen(url, c, d, Path(tmp), ramp=True)
            for label, url, concurrency in targets:
                runs: dict[str, list[dict]] = {name: [] for name in tools}
                for round_ in range(args.rounds):
                    order = list(tools) if round_ % 2 == 0 else list(reversed(tools))
                    for name in order:
                        runs[name].append(tools[name](url, concurrency, args.duration))
                        time.sleep(1)
                rows.append(
                    (
                        label,
                        concurrency,
                        {
                            name: {key: statistics.median(r[key] for r in results) for key in ("rps", "p50")}
                            | {"runs": results}
                            for name, results in runs.items()
                        },
                    )
                )
    finally:
        for server in (gateway, aggregate_backend, backend, raw):
            server.stop()

    print(
        f"\nloadgen vs wrk: medians of {args.rounds} rounds x {args.duration:g} s; {wrk_version}; "
        f"Python {sys.version.split()[0]}; all on this machine's {__import__('os').cpu_count()} cores\n"
    )
    verdicts = []
    for index, (label, concurrency, by_tool) in enumerate(rows):
        print(f"{label}, concurrency {concurrency}")
        for name, figures in by_tool.items():
            cpu = [r.get("cpu_ms_per_1000") for r in figures["runs"] if r.get("cpu_ms_per_1000")]
            share = [r.get("cpu_share") for r in figures["runs"] if r.get("cpu_share")]
            extra = (
                f"  CPU {statistics.median(cpu):.0f} ms/1000 req ({statistics.median(share):.0%} of a core)"
                if cpu
                else ""
            )
            print(f"  {TOOL_NAMES[name]:<32} {figures['rps']:>8.1f} req/s   p50 {fmt_ms(figures['p50']):>9}{extra}")
        ratio_rps = by_tool["loadgen"]["rps"] / by_tool["wrk"]["rps"]
        ratio_p50 = by_tool["loadgen"]["p50"] / by_tool["wrk"]["p50"]
        print(f"  loadgen/wrk: throughput x{ratio_rps:.3f}, p50 x{ratio_p50:.3f}\n")
        if index == 0:
            continue  # the capacity target shows each tool's ceiling, not agreement
        verdicts.append((f"{label}: throughput within {RPS_WITHIN:.0%} of wrk", abs(ratio_rps - 1) <= RPS_WITHIN))
        verdicts.append((f"{label}: p50 within {P50_WITHIN:.0%} of wrk", abs(ratio_p50 - 1) <= P50_WITHIN))
    verdicts.append(
        (f"capacity: loadgen >= {CAPACITY:,} req/s from one process", rows[0][2]["loadgen"]["rps"] >= CAPACITY)
    )
    for text, ok in verdicts:
        print(f"  [{'ok' if ok else 'MISSED'}] {text}")

    out = ROOT / "results"
    out.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (out / f"bench-{stamp}.json").write_text(
        json.dumps(
            {
                "experiment": "bench",
                "environment": {
                    "timestamp": stamp,
                    "server_mode": "mixed",
                    "wrk": wrk_version,
                    "python": sys.version.split()[0],
                },
                "rounds": args.rounds,
                "duration": args.duration,
                "targets": [{"label": label, "concurrency": c, "tools": tools_} for label, c, tools_ in rows],
                "verdicts": [{"check": text, "ok": ok} for text, ok in verdicts],
            },
            indent=1,
        )
    )
    print(f"\nresults: results/bench-{stamp}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
