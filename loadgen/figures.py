"""Every figure of a measured tally, as a result file keeps it: one process's or several
processes' added together, each process's own beside the sum."""

from __future__ import annotations

from . import machine
from .plan import Plan
from .stats import Recorder, littles_law
from .tally import Tally

# A single-threaded event loop: above this share of one core over the window, the client,
# not the server, sets the pace.
SATURATED_CPU = 0.85
# An event loop this late in the median tick times its requests late: the client again.
LAGGED_MS = 10.0


def _lag(recorder: Recorder) -> dict | None:
    if not recorder.count:
        return None
    return {
        "median": 1000 * recorder.percentile(50),
        "p99": 1000 * recorder.percentile(99),
        "max": 1000 * recorder.histogram.get_max_value() / 1e6,
        "ticks": recorder.count,
    }


def latency_summary(tally: Tally) -> dict:
    """The histogram's summary, and from where its percentiles are only lower bounds (the
    smallest timed-out request's time: a percentile at or above it may be one)."""
    summary = tally.latency.summary()
    summary["censored"] = tally.censored
    summary["lower_bound_from"] = tally.censored_floor if tally.censored else None
    return summary


def process(part: dict) -> dict:
    """One process's own figures, beside the merged ones."""
    window = max(part["window_end"] - part["started"], 1e-9)
    own = part.get("window_cpu")
    share = own / window if own is not None else (part["cpu"] / part["wall"] if part["wall"] else 0.0)
    latency = Recorder.decode(part["latency"])
    # A replica (replicas.py) says where it ran; a local process is on loadgen's own machine.
    where = {name: part[name] for name in ("node", "host", "slot") if part.get(name) is not None}
    lag = _lag(Recorder.decode(part["lag"])) if part.get("lag") else None
    return {
        **where,
        "requests": sum(part["statuses"].values()) + sum(v for k, v in part["errors"].items() if not k.isdigit()),
        "window": window,
        "rps": part["ok_in_window"] / window,
        "sent_rate": part["sent"] / window,
        "cpu_seconds": part["cpu"],
        "wall_seconds": part["wall"],
        "window_cpu_seconds": own,
        "window_container_cpu_seconds": part.get("container_cpu"),
        "cpu_share": share,
        "loop_lag_ms": lag,
        "saturated": share >= SATURATED_CPU,
        "lagged": bool(lag and lag["median"] >= LAGGED_MS),
        # Its own histogram, so anyone can check the merged one is exactly their sum.
        "histogram": latency.saved(),
    }


def containers_cpu(processes: list[dict]) -> float | None:
    """The CPU of the containers loadgen's processes ran in, over the window: local worker
    processes share one container (each read it whole: the largest reading), a replica has its
    own (its host names it)."""
    found: dict[str, float] = {}
    for part in processes:
        seen = part.get("window_container_cpu_seconds")
        if seen is None:
            return None
        where = str(part.get("host") or part.get("node") or "")
        found[where] = max(found.get(where, 0.0), seen)
    return sum(found.values())


def figures(plan: Plan, tally: Tally, cpu: float, wall: float, processes: list[dict] | None = None) -> dict:
    """Every figure of a tally. `processes` (several loadgen processes, their tallies merged
    into this one): each one's own rps, send rate, CPU and wall seconds; throughput is then
    their sum, each over its own window, as those windows are nearly the same one."""
    window = max(tally.window_end - tally.started, 1e-9)
    ok = sum(count for status, count in tally.statuses.items() if status.startswith("2"))
    errors = sum(tally.errors.values())
    requests = ok + errors
    # CPU covers the warm-up of a continuous run too, so share it over every request sent.
    handled = requests + tally.warm_done
    latency = latency_summary(tally)
    lag = _lag(tally.lag)
    if processes:
        own = [p["window_cpu_seconds"] for p in processes]
        window_cpu = None if any(x is None for x in own) else sum(own)
        busiest = max(p["cpu_share"] for p in processes)
        container_cpu = containers_cpu(processes)
        lagged = any(p["lagged"] for p in processes)
    else:
        window_cpu = tally.own_cpu
        container_cpu = tally.container_cpu
        busiest = window_cpu / window if window_cpu is not None else (cpu / wall if wall else 0.0)
        lagged = bool(lag and lag["median"] >= LAGGED_MS)
    result = {
        "requests": requests,
        "ok": ok,
        "errors": errors,
        # Every error by what it was: an HTTP status ("503") or a transport failure ("timeout").
        "errors_by": dict(sorted(tally.errors.items())),
        "timeouts": tally.errors.get("timeout", 0),
        "error_rate": errors / requests if requests else 0.0,
        "partial": tally.partial,
        "calls_failed": dict(sorted(tally.calls_failed.items())),
        "statuses": dict(tally.statuses),
        "error_kinds": {kind: n for kind, n in tally.errors.items() if not kind.isdigit()},
        "window": window,
        # On loadgen's monotonic clock: the services' telemetry is read over the same span.
        "window_at": [tally.started, tally.window_end],
        # Successes only: an error answered fast must not pass for throughput.
        "rps": sum(p["rps"] for p in processes) if processes else tally.ok_in_window / window,
        "latency": latency,
        # The whole distribution, not only the summary's percentiles: any HdrHistogram tool can
        # decode it, add it to another run's, or read any percentile (the report's percentile plots).
        "histogram": tally.latency.saved(),
        "breakdown": tally.breakdown.summary(),
        # Slowest first: `docker compose logs gateway backend | grep <id>` shows where each went.
        "slowest": [
            {"request_id": rid, "latency": lat, "status": st} for lat, rid, st in sorted(tally.slowest, reverse=True)
        ],
        "loadgen": {
            "cpu_seconds": cpu,
            "wall_seconds": wall,
            "window_cpu_seconds": window_cpu,
            # Loadgen's containers' whole CPU over the window: what the machine's share counts.
            "window_container_cpu_seconds": container_cpu,
            # Over the window, and with several processes in cores (the sum of their shares of one).
            "cpu_share": window_cpu / window if window_cpu is not None else (cpu / wall if wall else 0.0),
            "cpu_ms_per_1000": 1e6 * cpu / handled if handled else None,
            "workers": len(processes) if processes else 1,
            "loop_lag_ms": lag,
            "lagged": lagged,
        },
        "machine": machine.shares(tally.cpu_start, tally.cpu_end),
    }
    loadgen = result["loadgen"]
    if processes:
        loadgen["processes"] = processes
    # Each process has one event loop on one core: it is the busiest that sets the pace.
    loadgen["busiest_share"] = busiest
    loadgen["saturated"] = busiest >= SATURATED_CPU
    if plan.rate:
        achieved = sum(p["sent_rate"] for p in processes) if processes else tally.sent / window
        result["rate"] = {"target": plan.rate, "achieved": achieved}
        result["latency_uncorrected"] = tally.uncorrected.summary()
        result["histogram_uncorrected"] = tally.uncorrected.saved()
    else:
        result["littles_law"] = littles_law(plan.concurrency, result["rps"], latency["mean"])
    if tally.timeline is not None:
        start = tally.started
        result["timeline"] = [
            (round(t - start, 4), round(lat, 6), outcome) for t, lat, outcome in sorted(tally.timeline)
        ]
    # Flat names for --fail-if and tables: p50, p99, ... alongside the counts.
    result.update(
        {name: value for name, value in latency.items() if name not in ("count", "censored", "lower_bound_from")}
    )
    return result
