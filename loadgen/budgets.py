"""What each part of the lab had and used over a measurement's window: the cores a service
may use (its CPU limit, cpuset and workers), its share of each budget (CPU, request threads,
the gateway's backend calls), the CPU one aggregation cost and what the machine's cores
allow at that cost, and how busy the host was beyond the lab's own three processes.

Every figure is over the window itself: the services' counters read at its two ends
(loadgen/sampler.py), loadgen's CPU and /proc/stat too (loadgen/runner.py).
"""

from __future__ import annotations

SERVICES = ("gateway", "backend")


NEIGHBOURS = 0.10  # of the machine's cores, busy beyond the lab's own share


def cpuset_size(cpuset: str | None) -> int | None:
    """How many CPUs a cpuset such as "0-1,3" names."""
    if not cpuset:
        return None
    count = 0
    for part in cpuset.split(","):
        low, _, high = part.strip().partition("-")
        count += int(high or low) - int(low) + 1
    return count


def machine_cores(environment: dict) -> float | None:
    """The cores the whole lab shares: the machine's, else what loadgen's os.cpu_count() saw."""
    return (environment.get("machine") or {}).get("cores") or (environment.get("loadgen") or {}).get("cpu_count")


def allowed_cores(environment: dict, service: str) -> float | None:
    """The cores a service may use: its container's CPU limit or cpuset, else the machine's."""
    limit = (environment.get(service) or {}).get("cpu") or {}
    limits = [x for x in (limit.get("cores"), cpuset_size(limit.get("cpuset"))) if x]
    return min(limits) if limits else machine_cores(environment)


def budget_cores(seen: dict, environment: dict, service: str) -> float | None:
    """A Python worker runs on about one core at a time (the GIL), so a service can use at
    most min(workers, allowed cores). Workers, not processes: gunicorn's master serves nothing."""
    processes = seen.get("workers") or seen.get("processes")
    allowed = allowed_cores(environment, service)
    if not processes:
        return allowed
    return min(processes, allowed) if allowed else processes


def span(figures: dict, scenario: dict) -> float | None:
    """Seconds the figures are over: the measurement window, which the services' and
    loadgen's CPU are read across too. Results from before that read the services over the
    whole run, warm-up included: loadgen's wall time is the nearer span for those."""
    services = [seen for seen in (figures.get("services") or {}).values() if seen]
    if services and all("window" in seen for seen in services):
        return figures.get("window")
    wall = (figures.get("loadgen") or {}).get("wall_seconds")
    if wall:
        return wall
    window = figures.get("window")
    return window + (scenario.get("warmup") or 0.0) if window else None


def ceiling(figures: dict, services: dict, cores: float | None) -> dict | None:
    """The throughput the machine's cores allow at the CPU an aggregation cost here."""
    gateway = services.get("gateway") or {}
    aggregations = gateway.get("requests")
    parts = _cpu_seconds(figures, services)
    if not cores or not aggregations or any(p is None for p in parts):
        return None
    per = sum(parts) / aggregations
    return {"cores": cores, "cpu_per_aggregation": per, "rps": cores / per if per > 0 else None}


def _cpu_seconds(figures: dict, services: dict) -> list[float | None]:
    """CPU seconds of gateway, backend and loadgen over the window: the three share the machine."""
    parts = [(services.get(name) or {}).get("cpu_seconds") for name in SERVICES]
    loadgen = figures.get("loadgen") or {}
    if any(seen and "window" in seen for seen in services.values()):
        return [*parts, loadgen.get("window_cpu_seconds")]
    return [*parts, loadgen.get("cpu_seconds")]


def _containers_cpu_seconds(figures: dict, services: dict) -> list[float | None] | None:
    """The whole CPU of the lab's containers over the window (every process in each: servers'
    masters, healthchecks), or None when a part did not report its container's."""
    if not services:
        return None
    parts = [services[name].get("container_cpu_seconds") for name in SERVICES if name in services]
    parts.append((figures.get("loadgen") or {}).get("window_container_cpu_seconds"))
    return None if any(p is None for p in parts) else parts


def machine_busy(figures: dict, services: dict, cores: float | None, seconds: float | None) -> float | None:
    """The share of the machine's cores the lab used over the window: its containers' whole
    CPU where every part reports it, else its three servers' processes'."""
    parts = _containers_cpu_seconds(figures, services) or _cpu_seconds(figures, services)
    if not cores or not seconds or any(p is None for p in parts):
        return None
    # The Docker engine's own work for the lab, where a campaign metered it on the host.
    engine = (figures.get("engine") or {}).get("cpu_seconds") or 0.0
    return (sum(parts) + engine) / seconds / cores


def neighbours(busy_host: float | None, busy_lab: float | None) -> float | None:
    """The share of the machine's cores busy beyond the lab's own (gateway, backend,
    loadgen) over the window: another tenant's load, or a lab part nothing measures."""
    if busy_host is None or busy_lab is None:
        return None
    return max(0.0, busy_host - busy_lab)


def shares(figures: dict) -> tuple[float | None, float | None, float | None]:
    """(host busy, the lab's own, beyond the lab) over a measurement's window, as shares of
    the machine's cores (None where a part was not measured)."""
    services = {name: seen for name, seen in (figures.get("services") or {}).items() if seen}
    cores = (figures.get("machine") or {}).get("cores")
    lab = machine_busy(figures, services, cores, span(figures, {}))
    host = (figures.get("machine") or {}).get("busy_share")
    return host, lab, neighbours(host, lab)


def disturbance(figures: dict) -> dict | None:
    """The host's busy share over a cell's window beside the lab's own, when the host was
    busier than the lab by NEIGHBOURS of its cores or more (else None): rule 0, for
    whoever runs cells to measure such a cell again."""
    host, lab, others = shares(figures)
    if others is None or others < NEIGHBOURS:
        return None
    return {"host_busy": host, "lab_busy": lab, "neighbours": others}


def _calls(seen: dict, backend: dict | None, environment: dict) -> dict | None:
    """The gateway's backend calls in flight at the peak (what its backend saw in flight)
    against its call budget, over all its workers."""
    limit = ((environment.get("gateway") or {}).get("limits") or {}).get("calls")
    busy = (backend or {}).get("in_flight_peak")
    if not limit or busy is None:
        return None
    limit *= seen.get("workers") or 1
    return {"busy": busy, "limit": limit, "use": busy / limit}


def service_use(seen: dict, environment: dict, name: str, seconds: float | None, services: dict) -> dict:
    budget = budget_cores(seen, environment, name)
    used = seen["cpu_seconds"] / seconds if seconds and seen.get("cpu_seconds") is not None else None
    server = (environment.get(name) or {}).get("server") or {}
    pool = (server.get("workers") or 0) * (server.get("threads") or 0) or None
    busy = seen.get("in_flight_peak")
    return {
        "calls": _calls(seen, services.get("backend"), environment) if name == "gateway" else None,
        "cpu": {
            "cores": used,
            "budget": budget,
            "use": used / budget if used is not None and budget else None,
        },
        "threads": None if not pool or busy is None else {"busy": busy, "pool": pool, "use": busy / pool},
        "loop_lag_max_ms": seen.get("loop_lag_max_ms"),
        # Results from before the median was sampled have the peak only.
        "loop_lag_ms": seen.get("loop_lag_median_ms", seen.get("loop_lag_max_ms")),
    }


def cpu_split(services: dict) -> dict | None:
    """CPU per aggregation of each service and gateway / backend: what the gateway's client
    costs against the backend calls it makes (the article's client ~3-5x, a tuned one ~0.3)."""
    gateway, backend = services.get("gateway") or {}, services.get("backend") or {}
    aggregations = gateway.get("requests")
    g, b = gateway.get("cpu_seconds"), backend.get("cpu_seconds")
    if not aggregations or g is None or b is None:
        return None
    return {
        "gateway_ms": 1000 * g / aggregations,
        "backend_ms": 1000 * b / aggregations,
        "gateway_over_backend": g / b if b > 0 else None,
    }


def budget_use(per: dict) -> dict[str, dict[str, float]]:
    """Each service's share of each budget it has over the window: CPU of its cores,
    request threads of its pool at the peak, backend calls of the gateway's budget."""
    use: dict[str, dict[str, float]] = {}
    for name, seen in per.items():
        shares = {}
        if seen["cpu"]["use"] is not None:
            shares["cpu"] = seen["cpu"]["use"]
        for budget in ("threads", "calls"):
            if seen.get(budget):
                shares[budget] = seen[budget]["use"]
        use[name] = shares
    return use
