"""What bounded a measurement: `judge(figures, scenario, environment)`.

It sets each limit the lab can hit beside how close the cell came to it: each service's
CPU against the cores it may use, its request threads against its pool (wsgi), its calls
against the gateway's call budget, the event loops' lag (asgi), loadgen's own CPU and
loop, and the machine's other tenants. Every figure is over the measurement window
itself: the services' counters are read at its two ends (loadgen/sampler.py), loadgen's
CPU and /proc/stat too (loadgen/runner.py). The verdict, `bound_by`, is the first of these
rules that holds (judge() tries them in this order):

0. the host busier than the lab by >= 10 % of its cores -> "neighbours": the cell measured
   someone else's load too (campaigns re-run it, and keep it marked if it stays so). The lab
   is its containers' whole CPU where each part reports it (budgets.machine_busy)
1. loadgen saturated (>= 85 % of its one core over the window), or its event loop
   >= 10 ms late in the median tick                     -> "loadgen": nothing else counts
   a service that answered no telemetry poll around an end of the window (sampler.REACH)
                                                        -> "gateway unresponsive" / "backend
   unresponsive": its CPU is unknown there, and so the lab's share (rule 0 needs it; reading
   a silent service's CPU as zero would pass the lab's own overload for a neighbour's)
2. throughput >= 80 % of the ideal                      -> "the delay"
   (an open loop: >= 95 % of the rate it offered         -> "the offered rate")
3. throughput >= 80 % of what a thread pool allows      -> "backend threads" / "gateway threads"
4. a service's CPU >= 85 % of its budget                -> "gateway CPU" / "backend CPU"
5. the machine's cores >= 85 % busy (the lab's three summed, or /proc/stat's share when
   higher)                                              -> the CPU of the service that uses more
6. a request-thread pool >= 95 % busy, backend first     -> "backend threads" / "gateway threads"
7. an event loop lagged >= 50 ms in the median sample   -> "event loop"
8. none of these: the one nearest its threshold, with `clear` False

Rule 3 is rule 2 for a wsgi pool: every backend call holds a backend thread for at least
the delay (an async view too: WSGI runs it to the end on that thread), and every
aggregation holds a gateway thread for at least the latency floor, so a pool of P threads
allows P / (n x delay) and P / floor aggregations a second. A cell near that is bound by
the pool whatever its CPU reads. Past rule 3, the backend's threads come before the
gateway's because a wsgi gateway's threads wait on the backend's: when both are full, the
backend is the cause. CPU comes before busy threads because threads waiting for a CPU
look busy too.

Busy threads are a peak (the sampler's in-flight peak), CPU is a mean over the window:
rule 2 comes first because a cell at its ideal can still have every thread busy at times.
The loop's lag is the median of the sampler's polls (each the worst lag of the last one to
two seconds), so one garbage collection or one slow start-up does not make the verdict:
only a loop that lags in most of the run does.
A CPU use over 100 % is real: C code that lets go of the GIL (OpenSSL loading the CA
bundle for the article's client) runs on more cores than the service has workers.

Beside the verdict, `use` gives each component's share of each of its budgets (CPU of its
cores, threads of its pool, calls of the gateway's budget) and `headroom` what is left of
the fullest one; `of_ideal` is throughput over the ideal.

Over 250 lines: one rule per limit the lab can hit, each with its figures, in the order the
verdict applies them.
"""

from __future__ import annotations

from .budgets import (
    NEIGHBOURS,
    budget_use,
    ceiling,
    cpu_split,
    machine_busy,
    machine_cores,
    neighbours,
    service_use,
    span,
)
from .sampler import REACH

# Strategies whose n calls overlap: one delay is the floor. sequential pays n of them.
CONCURRENT = ("gather", "threadpool", "async-to-sync")

LOADGEN_SATURATED = 0.85  # loadgen's own rule (figures.SATURATED_CPU)
LOADGEN_LAG_MS = 10.0  # and figures.LAGGED_MS
NEAR_IDEAL = 0.8
CARRIED = 0.95  # an open loop's throughput of the rate it offered
BUSY_CPU = 0.85
BUSY_THREADS = 0.95
LOOP_LAG_MS = 50.0

VERDICTS = (
    "gateway CPU",
    "backend CPU",
    "gateway threads",
    "backend threads",
    "event loop",
    "the delay",
    "the offered rate",
    "loadgen",
    "neighbours",
    "gateway unresponsive",
    "backend unresponsive",
)


def ideal(scenario: dict) -> dict:
    """The latency floor, and the throughput a closed loop would reach if only the delay
    cost time; an open loop's is the rate it offers."""
    floor = scenario["delay"] * (1 if scenario["strategy"] in CONCURRENT else scenario["n"])
    if scenario.get("rate"):
        return {"latency": floor, "rps": scenario["rate"]}
    return {"latency": floor, "rps": scenario["concurrency"] / floor if floor > 0 else None}


def pool_capacity(name: str, pool: int, scenario: dict) -> float | None:
    """Aggregations a second a full pool of `pool` threads allows (rule 3): a backend thread
    is held a delay per call, n calls an aggregation; a gateway thread the latency floor."""
    held = scenario["delay"] * scenario["n"] if name == "backend" else ideal(scenario)["latency"]
    return pool / held if held > 0 else None


def _percent(x: float) -> str:
    return f"{x:.0%}".replace("%", " %")


def judge(figures: dict, scenario: dict, environment: dict) -> dict:
    """The bound of one cell. `scenario` needs strategy, concurrency, n and delay (and the
    warm-up, for old results without loadgen's wall time); `environment` is the result's."""
    services = {name: seen for name, seen in (figures.get("services") or {}).items() if seen}
    seconds = span(figures, scenario)
    per = {name: service_use(seen, environment, name, seconds, services) for name, seen in services.items()}
    loadgen = figures.get("loadgen") or {}
    share = loadgen.get("cpu_share") or 0.0
    # With --workers N, cpu_share is in cores over N processes: saturation is per process.
    busiest = loadgen.get("busiest_share", share)
    lag = (loadgen.get("loop_lag_ms") or {}).get("median")
    near = max(busiest / LOADGEN_SATURATED, 1.0 if loadgen.get("saturated") else 0.0)
    near_lag = max(lag / LOADGEN_LAG_MS if lag is not None else 0.0, 1.0 if loadgen.get("lagged") else 0.0)
    best = ideal(scenario)
    cores = machine_cores(environment)
    top = ceiling(figures, services, cores)
    rps = figures.get("rps") or 0.0
    busy_lab = machine_busy(figures, services, cores, seconds)
    # /proc/stat's share counts every process on the host (and steal): a neighbour that
    # takes the cores bounds the cell as surely as the lab's own services do.
    busy_host = (figures.get("machine") or {}).get("busy_share")
    busy_machine = max((x for x in (busy_lab, busy_host) if x is not None), default=None)
    others = neighbours(busy_host, busy_lab)

    # Every candidate: (verdict, how close to its threshold as a fraction of it, reason).
    candidates = []
    if others is not None:
        candidates.append(
            (
                "neighbours",
                others / NEIGHBOURS,
                f"the host's {cores:g} cores were {_percent(busy_host)} busy, the lab's own "
                f"{_percent(busy_lab)}: {_percent(others)} of them someone else's",
            )
        )
    candidates.append(("loadgen", near, f"loadgen's busiest process used {_percent(busiest)} of its core"))
    if lag is not None:
        candidates.append(("loadgen", near_lag, f"loadgen's event loop was {lag:.0f} ms late in the median tick"))
    for name, seen in services.items():
        if seen.get("silent"):
            # Its counters are unknown, so is the lab's share (rule 0 cannot hold): what is
            # known is that it could not answer a poll for REACH seconds.
            candidates.append(
                (
                    f"{name} unresponsive",
                    1.0,
                    f"{name} answered no telemetry poll for over {REACH:g} s around the window's ends "
                    "(its requests queued behind the load): its CPU there unknown",
                )
            )
    if best["rps"] and scenario.get("rate"):
        # An open loop that carried what it offered: the rate set the throughput.
        of_ideal = rps / best["rps"]
        candidates.append(
            ("the offered rate", of_ideal / CARRIED, f"{_percent(of_ideal)} of the {best['rps']:g}/s offered, carried")
        )
    elif best["rps"]:
        of_ideal = rps / best["rps"]
        candidates.append(
            (
                "the delay",
                of_ideal / NEAR_IDEAL,
                f"{_percent(of_ideal)} of the ideal {best['rps']:.1f}/s (c / {best['latency']:g} s floor)",
            )
        )
    for name in ("backend", "gateway"):
        threads = (per.get(name) or {}).get("threads")
        allows = pool_capacity(name, threads["pool"], scenario) if threads else None
        if allows and best["rps"] and allows < best["rps"]:
            of_pool = rps / allows
            candidates.append(
                (
                    f"{name} threads",
                    of_pool / NEAR_IDEAL,
                    f"{name}: its {threads['pool']} request threads allow {allows:.1f}/s; reached {_percent(of_pool)}",
                )
            )
    cpu = sorted(
        ((name, p["cpu"]) for name, p in per.items() if p["cpu"]["use"] is not None),
        key=lambda item: item[1]["use"],
        reverse=True,
    )
    for name, seen in cpu:
        candidates.append(
            (
                f"{name} CPU",
                seen["use"] / BUSY_CPU,
                f"{name} used {seen['cores']:.2f} of its {seen['budget']:g} cores ({_percent(seen['use'])})",
            )
        )
    if busy_machine is not None and cpu:
        heavier = max(cpu, key=lambda item: item[1]["cores"])[0]
        candidates.append(
            (
                f"{heavier} CPU",
                busy_machine / BUSY_CPU,
                f"the {cores:g} cores were {_percent(busy_machine)} busy"
                + (
                    f" ({_percent(busy_lab)} the lab's)"
                    if busy_lab is not None and busy_machine - busy_lab >= 0.05
                    else ""
                )
                + f", most of it the {heavier}'s",
            )
        )
    for name in ("backend", "gateway"):
        threads = (per.get(name) or {}).get("threads")
        if threads:
            candidates.append(
                (
                    f"{name} threads",
                    threads["use"] / BUSY_THREADS,
                    f"{name}: {threads['busy']} of {threads['pool']} request threads busy at the peak",
                )
            )
    lags = [(p["loop_lag_ms"], name) for name, p in per.items() if p["loop_lag_ms"] is not None]
    if lags:
        lag, name = max(lags)
        # A loop lags when its thread is short of CPU or something blocks it: say which it may be.
        use = per[name]["cpu"]["use"]
        cpu_note = f" (its CPU at {_percent(use)} of budget)" if use is not None else ""
        peak = per[name]["loop_lag_max_ms"]
        peak_note = f", {peak:.0f} ms at worst" if peak is not None and peak > lag else ""
        candidates.append(
            ("event loop", lag / LOOP_LAG_MS, f"{name}'s event loop lagged {lag:.0f} ms typically{peak_note}{cpu_note}")
        )

    # The candidates are in the rules' order: the first at its threshold wins.
    hit = next((c for c in candidates if c[1] >= 1.0), None)
    clear = hit is not None
    if hit is None:
        near = max(candidates, key=lambda c: c[1])
        hit = (near[0], near[1], f"nothing at its limit; nearest: {near[2]}")
    use = budget_use(per)
    return {
        "bound_by": hit[0],
        "reason": hit[2],
        "clear": clear,
        "of_ideal": rps / best["rps"] if best["rps"] else None,
        "use": use,
        # Past a budget there is none left, however far past: never a negative headroom.
        "headroom": {name: max(0.0, 1 - max(shares.values())) for name, shares in use.items() if shares},
        "ideal": best,
        "ceiling": top,
        "window": seconds,
        "machine_busy": busy_machine,
        "lab_busy": busy_lab,
        "host_busy": busy_host,
        "neighbours": others,
        "cpu_split": cpu_split(services),
        "services": per,
        "loadgen": {
            "cpu_share": share,
            "saturated": bool(loadgen.get("saturated")),
            "loop_lag_ms": lag,
            "lagged": bool(loadgen.get("lagged")),
        },
    }


def of(cell: dict, result: dict) -> dict:
    """A result cell's bound: the one saved with it, or judged now for a result saved before
    bounds.py (the cell's strategy and concurrency over its result's scenario)."""
    if cell.get("bound"):
        return cell["bound"]
    scenario = {
        **result["scenario"],
        "strategy": cell["strategy"],
        "concurrency": cell.get("concurrency"),
        "rate": cell.get("rate"),
    }
    return judge(cell["figures"], scenario, result["environment"])


def label(bound: dict) -> str:
    """The verdict for a table: with a "?" when no rule held and it is only the nearest limit."""
    return bound["bound_by"] if bound.get("clear", True) else f"{bound['bound_by']}?"
