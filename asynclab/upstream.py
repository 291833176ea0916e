"""The gateway's wait for its backend at start (GATEWAY_BACKEND_WAIT).

Compose starts the gateway once the backend is healthy (depends_on: service_healthy);
Swarm has no such order, so on a stack the gateway waits here, before its server starts,
and only then passes its own healthcheck. One JSON line says how long it waited.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request

from .knobs import read


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200 and json.load(response).get("status") == "ok"
    except (OSError, ValueError):
        return False


def wait(service: str = "gateway") -> bool:
    """True once the backend's /healthz says ok, or at once when no wait is set."""
    seconds = read("GATEWAY_BACKEND_WAIT")
    if not seconds:
        return True
    url = read("BACKEND_URL").rstrip("/") + "/healthz"
    start = time.monotonic()
    while not ready(url):
        if time.monotonic() - start >= seconds:
            print(f"asynclab: {service}: {url} not ok after {seconds:g} s (GATEWAY_BACKEND_WAIT)", file=sys.stderr)
            return False
        time.sleep(0.5)
    print(json.dumps({"event": "backend_ready", "url": url, "waited": round(time.monotonic() - start, 3)}), flush=True)
    return True
