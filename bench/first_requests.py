"""Benchmark: what a fresh worker's first requests cost, and the speed figures the tests
no longer bound (tests assert only what holds on any machine: a sleep of d takes >= d).

    .venv/bin/python -m bench.first_requests [--rounds 3]

For each server mode, starts a backend with WORKERS=2, waits for both workers' "warm"
lines, sends 8 concurrent /api/?delay=0.1 calls and prints, per worker, its first and
median handler time beyond the 0.1 s sleep (Server-Timing `app`); once as shipped (warm-up
at start, asynclab/warmup.py) and once with the warm-up switched off (--cold skips it in
every worker through a sitecustomize), so the cost it moves shows. Then, against a gateway:
how far past a 1 s deadline a fan-out with hanging calls answers, how long an
over-capacity 503 takes, and the gateway's time over a 4 x 0.1 s gather.
A benchmark, not a test: read the medians, on this machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from asynclab import timing
from harness.live import ROOT, LiveServer

DELAY = 0.1
COLD = "from asynclab import warmup\nwarmup.run = lambda: {}\n"


def call(url: str) -> tuple[float, dict]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return timing.parse(response.headers[timing.HEADER]).get("app", 0.0), json.load(response)


def warm_pids(server: LiveServer, count: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while server.log().count('"event": "warm"') < count and time.monotonic() < deadline:
        time.sleep(0.05)


def first_requests(mode: str, cold: bool) -> dict[int, list[float]]:
    """Per worker pid, the extra handler ms of each /api/ call it served, in order."""
    # THREADS only where the server has the knob: elsewhere setting it is an error at start.
    env: dict[str, object] = {"WORKERS": 2, **({"THREADS": 8} if mode == "wsgi" else {})}
    folder = tempfile.TemporaryDirectory(prefix="bench-cold-")
    if cold:
        Path(folder.name, "sitecustomize.py").write_text(COLD)
        env["PYTHONPATH"] = f"{folder.name}:{ROOT}"
    server = LiveServer("backend", mode, **env).start()
    try:
        warm_pids(server, 2)
        time.sleep(0.5 if cold else 0)  # cold: give the second worker time to start too
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: call(f"{server.url}/api/?delay={DELAY}"), range(8)))
        time.sleep(0.2)
        per_pid: dict[int, list[float]] = {}
        for line in server.log().splitlines():
            if line.startswith("{") and '"event": "access"' in line:
                record = json.loads(line)
                if record["path"] == "/api/":
                    per_pid.setdefault(record["pid"], []).append(record["elapsed_ms"] - DELAY * 1000)
        return per_pid
    finally:
        server.stop()
        folder.cleanup()


def gateway_figures(mode: str) -> dict[str, float]:
    backend = LiveServer("backend", "asgi", BACKEND_MAX_DELAY=3).start()
    gateway = LiveServer(
        "gateway", mode, BACKEND_URL=backend.url, BACKEND_MAX_DELAY=3, GATEWAY_MAX_FANOUT=10, GATEWAY_MAX_CALLS=10
    ).start()
    try:
        call(f"{gateway.url}/api/aggregated/?n=1&delay=0")
        start = time.perf_counter()
        call(f"{gateway.url}/api/aggregated/?n=5&delay=0&hang=0.4&deadline=1")
        overshoot = time.perf_counter() - start - 1
        app, _ = call(f"{gateway.url}/api/aggregated/?n=4&delay={DELAY}")

        def fill() -> None:  # ten hanging calls hold the budget until the 1.5 s deadline: a 502
            try:
                urllib.request.urlopen(
                    f"{gateway.url}/api/aggregated/threadpool/?n=10&delay=0&hang=1&deadline=1.5", timeout=30
                ).read()
            except urllib.error.HTTPError:
                pass

        filler = threading.Thread(target=fill)
        filler.start()
        time.sleep(0.5)
        start = time.perf_counter()
        try:
            urllib.request.urlopen(f"{gateway.url}/api/aggregated/?n=1&delay=0", timeout=30)
        except urllib.error.HTTPError as refused:
            assert refused.code == 503
        over_capacity = time.perf_counter() - start
        filler.join()
        return {
            "deadline_overshoot_ms": overshoot * 1000,
            "over_capacity_503_ms": over_capacity * 1000,
            "gather_4x0.1_over_delay_ms": (app - DELAY) * 1000,
        }
    finally:
        gateway.stop()
        backend.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for mode in ("wsgi", "asgi"):
        for cold in (True, False):
            firsts, laters = [], []
            for _ in range(args.rounds):
                for extra in first_requests(mode, cold).values():
                    firsts.append(extra[0])
                    laters.extend(extra[1:])
            label = "warm-up off" if cold else "warm-up at start"
            print(
                f"backend {mode}, {label}: first request per worker +{statistics.median(firsts):.1f} ms "
                f"(max +{max(firsts):.1f}), later ones +{statistics.median(laters or [0]):.1f} ms "
                f"over the {DELAY * 1000:.0f} ms sleep, {len(firsts)} workers"
            )
        rounds = [gateway_figures(mode) for _ in range(args.rounds)]
        print(
            f"gateway {mode}: "
            + ", ".join(f"{name} {statistics.median(r[name] for r in rounds):.1f}" for name in rounds[0])
        )


if __name__ == "__main__":
    main()
