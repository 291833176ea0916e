"""Where the time went: a client's latency split with the services' Server-Timing.

For an aggregation, per request:
    latency  = rest + gateway + fanout
    fanout   = backend + calls
where `gateway` is the gateway's handler time outside the fan-out, `backend` the backend
handler time on the fan-out's critical path, `calls` what the fan-out spent around it
(HTTP client, the hop to the backend, queueing there, Django outside its handler), and
`rest` everything outside the gateway's handler (network, queueing for a worker, the
server and Django around the middleware). Means add up where medians would not, so the
summary is of means.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PARTS = ("rest", "gateway", "calls", "backend")


def split(latency: float, metrics: dict[str, float]) -> dict[str, float] | None:
    """One request's parts, or None when the server sent no usable timing."""
    app = metrics.get("app")
    if app is None:
        return None
    if "fanout" not in metrics:
        # A plain service (the backend loaded directly): its handler and the rest.
        return {"rest": latency - app, "gateway": 0.0, "calls": 0.0, "backend": app}
    fanout, backend = metrics["fanout"], metrics.get("backend", 0.0)
    return {"rest": latency - app, "gateway": app - fanout, "calls": fanout - backend, "backend": backend}


@dataclass
class Breakdown:
    count: int = 0
    latency: float = 0.0
    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PARTS, 0.0))

    def add(self, latency: float, metrics: dict[str, float]) -> None:
        parts = split(latency, metrics)
        if parts is None:
            return
        self.count += 1
        self.latency += latency
        for name, value in parts.items():
            self.sums[name] += value

    def summary(self) -> dict | None:
        if not self.count:
            return None
        means = {name: total / self.count for name, total in self.sums.items()}
        latency = self.latency / self.count
        return {
            "requests": self.count,
            "latency": latency,
            "parts": means,
            "shares": {name: (value / latency if latency else 0.0) for name, value in means.items()},
        }
