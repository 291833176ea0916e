"""Benchmark: does a load tool the lab did not write agree with `loadgen capacity`?

    make bench-capacity    # or: .venv/bin/python -m bench.capacity_check [--slo-ms 100] [--seconds 10]

Starts tests/queue_app.py (one request at a time, a fixed service time: a server whose
capacity queueing alone gives) on a free port, finds its capacity with `loadgen capacity`
within p99 <= --slo-ms, then runs `hey` at 90 % and at 130 % of the rate it found, and
prints hey's own p99, errors and rate beside loadgen's: at 90 % the objective should hold,
at 130 % it should not. A benchmark, not a test: it prints figures and a verdict.

Why hey: it is in Debian (installed here from its packages if missing, needs root), written
in Go by others, and can hold a rate: -q limits a worker's requests a second. It is not a pure
open loop (a worker waits for its answer before its next request), and one hey ticks all its
-c workers at once (bursts of c). So the bench runs WORKERS hey processes of one worker each,
started 1 / rate apart, their schedules interleaved, and pools their per-request times
(-o csv) for the p99. Past capacity its latency is bounded by its workers (about WORKERS
service times) rather than growing with time, which still puts it well past the objective.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.live import ROOT, LiveServer

# hey processes of one worker each, started 1 / rate apart so their schedules interleave (one
# hey with -c workers ticks them all at once: bursts of c every c / rate seconds). Past the
# capacity at most this many requests wait, each a service time: 16 x 10 ms is well past a
# 100 ms objective.
WORKERS = 16


def ensure_hey() -> str:
    found = shutil.which("hey")
    if found:
        return found
    print("installing hey from Debian's packages ...", file=sys.stderr)
    install = ["apt-get", "install", "-y", "--no-install-recommends", "hey"]
    subprocess.run(install, check=False, stdout=subprocess.DEVNULL)
    if not shutil.which("hey"):
        subprocess.run(["apt-get", "update"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(install, check=True)
    return shutil.which("hey")


def parse_csv(text: str) -> list[tuple[float, int]]:
    """hey -o csv: (response time in seconds, status) of every answer it got."""
    rows = []
    for line in text.splitlines()[1:]:
        parts = line.split(",")
        if len(parts) >= 7 and parts[6].strip().isdigit():
            rows.append((float(parts[0]), int(parts[6])))
    return rows


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile of raw values, nearest rank: hey's own times, pooled over its processes."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def hey(url: str, rate: float, seconds: float) -> dict:
    per_worker = rate / WORKERS
    processes = []
    begin = time.monotonic()
    for i in range(WORKERS):
        time.sleep(max(0.0, begin + i / rate - time.monotonic()))
        processes.append(
            subprocess.Popen(
                ["hey", "-z", f"{seconds:g}s", "-c", "1", "-q", f"{per_worker:.3f}", "-t", "60", "-o", "csv", url],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        )
    rows = [row for process in processes for row in parse_csv(process.communicate()[0])]
    ok = [latency for latency, status in rows if 200 <= status < 300]
    return {
        "rate": rate,
        "requests": len(rows),
        "errors": len(rows) - len(ok),
        "rps": len(ok) / seconds,
        "p99": percentile(ok, 99),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.capacity_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--slo-ms", type=float, default=100.0, help="the p99 objective, ms (10 to 1000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="each hey run (2 to 120)")
    parser.add_argument("--service-ms", type=float, default=10.0, help="the queue server's service time (2 to 100)")
    args = parser.parse_args(argv)
    if not (10 <= args.slo_ms <= 1000 and 2 <= args.seconds <= 120 and 2 <= args.service_ms <= 100):
        parser.error("--slo-ms 10 to 1000, --seconds 2 to 120, --service-ms 2 to 100")
    ensure_hey()
    server = LiveServer(
        "queue",
        "queue",
        command=[sys.executable, "-m", "uvicorn", "tests.queue_app:app", "--host", "127.0.0.1", "--port", "{port}"]
        + ["--log-level", "warning", "--no-access-log"],
        ready="/healthz",
        QUEUE_SERVICE_TIME=args.service_ms / 1000,
    ).start()
    url = server.url + "/work"
    try:
        with tempfile.TemporaryDirectory(prefix="bench-capacity-") as folder:
            command = [sys.executable, "-m", "loadgen", "capacity", url, "--gateway", server.url]
            command += ["--backend", server.url, "--results", folder, "--quiet", "--timeout", "10s"]
            command += [f"--slo=p99={args.slo_ms:g}ms", "--start-rate", f"{250 / args.service_ms:g}", "--confirm=3"]
            command += ["--warmup=0.5", "--duration=2", "--max-steps=16", "--budget=90s"]
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            print(done.stdout)
            if done.returncode:
                print(done.stderr, file=sys.stderr)
                return done.returncode
            (path,) = Path(folder).glob("*-capacity-*.json")
            result = json.loads(path.read_text())
        found = result["capacity"]
        limit = args.slo_ms / 1000
        print(
            f"loadgen: capacity {found['rate']:.1f}/s carried at {found['offered']:g}/s offered "
            f"(spread {found['spread']:.1%}, {found['confirmed']} of {len(found['runs'])} confirmations met)"
        )
        agreed = True
        for share, should_hold in ((0.9, True), (1.3, False)):
            seen = hey(url, share * found["offered"], args.seconds)
            p99 = seen["p99"]
            error_rate = seen["errors"] / seen["requests"] if seen["requests"] else 1.0
            held = p99 is not None and p99 <= limit and error_rate <= 0.001
            agreed &= held == should_hold
            print(
                f"hey at {share:.0%} ({seen['rate']:.1f}/s offered, {WORKERS} processes): {seen['requests']} requests, "
                f"{seen['rps']:.1f}/s, p99 {1000 * p99:.1f} ms, errors {seen['errors']}: the objective "
                f"{'held' if held else 'did not hold'} ({'as expected' if held == should_hold else 'NOT as expected'})"
                if p99 is not None
                else f"hey at {share:.0%}: no p99 in its output"
            )
        print(f"verdict: hey {'agrees' if agreed else 'DISAGREES'} with loadgen's capacity")
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
