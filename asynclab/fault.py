"""A fault injected into a running service, from inside its container (`make faults`):
`python -m asynclab.fault kill-worker` kills one of the service's workers with SIGKILL, as
the OOM killer or a crash would, and prints what it did as one JSON line.

The workers are the processes that publish the service's telemetry (its /telemetry lists
each by pid), so the same command finds them under every SERVER_MODE, whatever tree of
processes the server makes. The one killed is the busiest (most requests in flight), so
the fault cuts requests in flight, which is the point of it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import urllib.request

from .knobs import read


def workers(url: str) -> list[dict]:
    """Each worker's telemetry (pid, requests in flight, ...) from the service at `url`."""
    with urllib.request.urlopen(url.rstrip("/") + "/telemetry", timeout=5) as response:
        return json.load(response)["workers"]


def busiest(found: list[dict]) -> int:
    """The pid with the most requests in flight; of equals, the newest process."""
    return max(found, key=lambda worker: (worker["in_flight"]["now"], worker["pid"]))["pid"]


def kill_worker(url: str) -> dict:
    """SIGKILL the busiest worker of the service at `url`; what was done, as a dict. A
    worker that is PID 1 of its container is the server itself: nothing would restart it."""
    found = workers(url)
    if not found:
        raise RuntimeError(f"{url}/telemetry lists no worker")
    pid = busiest(found)
    if pid == 1:
        raise RuntimeError("the only worker is the container's PID 1, the server itself: nothing would restart it")
    os.kill(pid, signal.SIGKILL)
    return {"fault": "kill-worker", "killed": pid, "in_flight": {w["pid"]: w["in_flight"]["now"] for w in found}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m asynclab.fault", description=__doc__.split("\n\n")[0])
    parser.add_argument("fault", choices=("kill-worker",))
    parser.add_argument("--url", default=None, help="the service (default: this container's, on PORT)")
    args = parser.parse_args(argv)
    url = args.url or f"http://127.0.0.1:{read('PORT')}"
    try:
        done = kill_worker(url)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        print(f"asynclab.fault: {args.fault}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(done), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
