"""The cost model: what each component of the lab spends per aggregation, measured at low
load, and from it the capacity a budget (cores, workers, threads per service) would carry,
with the component that binds first. Pure arithmetic; `loadgen capacity` measures what it
predicts (docs/capacity.md).

Each component (gateway, backend, loadgen) has two kinds of limit:
- CPU: `cpu` seconds per aggregation against the cores it may use, which for a Python
  service with the GIL is at most one per worker process; run only up to `UTILISATION` of
  them, as queueing past that lifts the tail over any latency objective. What a service
  spends with no load at all (`idle`: its telemetry, health checks, timers) comes off the
  cores first: measured at two low rates, CPU over a window is idle x window + cpu x
  aggregations, and one rate alone would charge the idle share to every aggregation (the
  lab's asgi backend at half a core: 16 ms per aggregation at 5/s, 10 ms at the margin;
  predicted 27/s against 39/s measured);
- slots: a pool of `pool` threads (or connections, or the gateway's call budget) each held
  `hold` seconds per aggregation (a wsgi backend: a thread per call for the delay, n calls;
  a wsgi gateway: a thread for the aggregation's latency): Little's law lets a full pool
  carry pool / hold aggregations a second. An event loop holds no thread: no such limit.
- memory: `memory` bytes per aggregation in flight against what is left of its limit,
  in flight being throughput x latency (Little's law again).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# The share of its cores a component may be kept busy and still meet a p99 objective of a
# few service times: an M/M/1 queue's p99 wait is ln(100) / (1 - rho) service times, so
# past 0.85 it grows faster than any latency target tolerates.
UTILISATION = 0.85
# The second calibration rate: at least this many times the first (the search's ramp
# doubles; its bisection's steps are closer).
CALIBRATION_STEP = 1.4
COMPONENTS = ("gateway", "backend", "loadgen")


@dataclass(frozen=True)
class Cost:
    """What one aggregation costs a component, measured (calibrate)."""

    cpu: float  # CPU seconds per aggregation, at the margin
    hold: float = 0.0  # slot-seconds (thread, connection, call) held per aggregation
    memory: float = 0.0  # bytes per aggregation in flight
    idle: float = 0.0  # cores busy with no load at all


@dataclass(frozen=True)
class Budget:
    """What a component is given: cores (its CPU quota), worker processes, and its pool of
    slots (workers x threads for a thread pool; None: no pool, an event loop), and memory."""

    cores: float
    workers: int | None = None  # None: not a GIL-bound Python service (or free-threaded)
    pool: int | None = None
    memory: float | None = None  # bytes it may use beyond its idle footprint

    @property
    def usable_cores(self) -> float:
        """With the GIL each worker runs on one core at a time: min(cores, workers)."""
        return self.cores if self.workers is None else min(self.cores, float(self.workers))


def limits(cost: Cost, budget: Budget, latency: float) -> dict[str, float]:
    """Aggregations a second each of the component's limits allows (those it has)."""
    found = {}
    if cost.cpu > 0:
        found["CPU"] = max(0.0, UTILISATION * budget.usable_cores - cost.idle) / cost.cpu
    if budget.pool is not None and cost.hold > 0:
        found["slots"] = budget.pool / cost.hold
    if budget.memory is not None and cost.memory > 0 and latency > 0:
        found["memory"] = budget.memory / (cost.memory * latency)
    return found


def predict(costs: dict[str, Cost], budgets: dict[str, Budget], latency: float) -> dict:
    """The predicted capacity: {"rate", "binding" (component and limit), "limits" (every
    component's every limit, aggregations a second)}. `latency`: an aggregation's time at
    low load, for the memory that requests in flight hold."""
    every = {name: limits(costs[name], budgets[name], latency) for name in costs if name in budgets}
    candidates = [(rate, name, kind) for name, found in every.items() for kind, rate in found.items()]
    if not candidates:
        raise ValueError("no component has a limit: give each a CPU cost")
    rate, name, kind = min(candidates)
    return {"rate": rate, "binding": f"{name} {kind}", "limits": every}


def project(costs: dict[str, Cost], budgets: dict[str, Budget], latency: float, cores: float) -> dict:
    """The same configuration with `cores` per service (gateway and backend; loadgen keeps
    its own): a worker per core where the service has workers, each with its threads, so
    the pools grow with the workers. A projection, marked as one in every table."""
    scaled, costs = {}, dict(costs)
    for name, budget in budgets.items():
        if name == "loadgen":
            scaled[name] = budget
            continue
        workers = None if budget.workers is None else max(1, round(cores))
        pool = None
        if budget.pool is not None:
            per_worker = budget.pool / (budget.workers or 1)
            pool = round(per_worker * (workers or 1))
        scaled[name] = replace(budget, cores=cores, workers=workers, pool=pool)
        # Each worker process idles on its own: the idle share grows with them.
        if name in costs and budget.workers and workers:
            costs[name] = replace(costs[name], idle=costs[name].idle * workers / budget.workers)
    return {**predict(costs, scaled, latency), "cores": cores, "projection": True}


def calibrate(
    figures: dict, n: int, delay: float, threads_held: dict[str, bool], second: dict | None = None
) -> dict[str, Cost]:
    """Each component's cost per aggregation from a low-load measurement's figures: its CPU
    seconds over the window (the services' telemetry, loadgen's own) per successful
    aggregation, or, with the `second` figures of another rate, the margin and the idle
    share that fit both (`cpu_split`); slot-seconds where `threads_held[name]` (a thread per
    request: wsgi) from the scenario (backend: n calls of `delay`; gateway: the
    aggregation's median latency); memory per request in flight from the peak RSS over idle
    and the peak in flight."""
    ok = figures.get("ok") or 0
    if not ok:
        raise ValueError("a calibration needs successful aggregations")
    services = figures.get("services") or {}
    other = (second or {}).get("services") or {}
    costs = {}
    for name in ("gateway", "backend"):
        seen = services.get(name) or {}
        if seen.get("cpu_seconds") is None:
            continue
        hold = 0.0
        if threads_held.get(name):
            hold = n * delay if name == "backend" else (figures.get("p50") or delay)
        in_flight = seen.get("in_flight_peak") or 0
        grew = (seen.get("rss_peak_bytes") or 0) - (seen.get("rss_idle_bytes") or 0)
        there = other.get(name) or {}
        cpu, idle = cpu_split(
            (seen["cpu_seconds"], seen.get("window"), ok),
            (there.get("cpu_seconds"), there.get("window"), (second or {}).get("ok")),
        )
        costs[name] = Cost(cpu=cpu, hold=hold, memory=max(0.0, grew) / in_flight if in_flight else 0.0, idle=idle)
    own = (figures.get("loadgen") or {}).get("window_cpu_seconds")
    if own is not None:
        there = (second or {}).get("loadgen") or {}
        cpu, idle = cpu_split(
            (own, figures.get("window"), ok),
            (there.get("window_cpu_seconds"), (second or {}).get("window"), (second or {}).get("ok")),
        )
        costs["loadgen"] = Cost(cpu=cpu, idle=idle)
    return costs


def cpu_split(low: tuple, high: tuple) -> tuple[float, float]:
    """(CPU seconds per aggregation at the margin, idle cores) from two windows, each
    (CPU seconds, window seconds, aggregations): the line cpu = idle x window + margin x
    aggregations through both. With one window, or two that do not make a line with a
    positive margin and idle share (the same rate twice, noise larger than the idle share),
    everything is charged to the aggregations: (CPU / aggregations, 0)."""
    cpu1, window1, ok1 = low
    single = (cpu1 / ok1, 0.0)
    cpu2, window2, ok2 = high
    if None in (cpu2, window1, window2, ok2) or not ok2:
        return single
    determinant = window1 * ok2 - window2 * ok1
    # Aggregations per second must differ by a fifth at least, or the line is noise.
    if abs(ok2 / window2 - ok1 / window1) < 0.2 * min(ok1 / window1, ok2 / window2):
        return single
    idle = (cpu1 * ok2 - cpu2 * ok1) / determinant
    margin = (window1 * cpu2 - window2 * cpu1) / determinant
    if idle < 0 or margin <= 0:
        return single
    return margin, idle


def ratio(measured: float, predicted: float) -> float:
    """measured / predicted: the check the model is held to (within 15 % is 0.85 to 1.15)."""
    return measured / predicted


# The cores a projection gives each service (issue: 4, 8 and 16 per service).
PROJECTIONS = (4.0, 8.0, 16.0)


def budget_of(health: dict | None) -> Budget | None:
    """A service's budget from its /healthz: its CPU (quota, else cores it may run on), its
    workers (GIL-bound unless every worker runs free-threaded) and, where its server has a
    pool (threads, or gevent's greenlets), workers x that pool."""
    if not health or not health.get("server"):
        return None
    server, cpu = health["server"], health.get("cpu") or {}
    cores = cpu.get("cores")
    if not cores:
        return None
    workers = server.get("workers") or 1
    gil = health.get("gil") or {}
    seen = gil.get("workers") or {}
    free = bool(gil.get("free_threaded_build")) and bool(seen) and not any(seen.values())
    threads = server.get("threads")
    return Budget(cores=float(cores), workers=None if free else workers, pool=workers * threads if threads else None)


def check(result: dict) -> dict | None:
    """The model against a capacity search (loadgen/experiments/capacity.py): calibrated on
    its lowest step that met every objective (low load), the budgets from the services'
    /healthz, the prediction beside the measured capacity (their ratio) and the projections
    to PROJECTIONS cores per service. None, with nothing to say, where the services gave no
    telemetry or no budget (any URL that is not the lab's gateway)."""
    scenario, environment = result["scenario"], result["environment"]
    capacity = result["capacity"]
    if not scenario.get("strategy") or capacity.get("rate") is None:
        return None
    met = sorted((s for s in result["steps"] if s["met"]), key=lambda s: s["rate"])
    if not met:
        return None
    # The lowest rate that met, and the next one at least CALIBRATION_STEP times it.
    calibration = met[0]
    second = next((s for s in met if s["rate"] >= CALIBRATION_STEP * calibration["rate"]), None)
    budgets = {name: budget_of(environment.get(name)) for name in ("gateway", "backend")}
    if not all(budgets.values()):
        return None
    held = {name: budgets[name].pool is not None for name in budgets}
    try:
        costs = calibrate(calibration["figures"], scenario["n"], scenario["delay"], held, second and second["figures"])
    except ValueError:
        return None
    if "gateway" not in costs or "backend" not in costs:
        return None
    loadgen_cores = float((environment.get("loadgen") or {}).get("cpu_count") or 1)
    workers = scenario.get("workers") or 1
    budgets["loadgen"] = Budget(cores=min(loadgen_cores, float(workers)), workers=workers)
    latency = calibration["figures"].get("p50") or scenario["delay"]
    try:
        predicted = predict(costs, budgets, latency)
    except ValueError:  # nothing measured a cost (an idle window): no prediction, not a crash
        return None
    return {
        "calibrated_at": calibration["rate"],
        "calibrated_with": second["rate"] if second else None,
        "costs": {
            name: {"cpu": c.cpu, "hold": c.hold, "memory": c.memory, "idle": c.idle} for name, c in costs.items()
        },
        "budgets": {name: {"cores": b.cores, "workers": b.workers, "pool": b.pool} for name, b in budgets.items()},
        "utilisation": UTILISATION,
        "predicted": predicted,
        "ratio": ratio(capacity["rate"], predicted["rate"]),
        "projections": [project(costs, budgets, latency, cores) for cores in PROJECTIONS],
    }
