"""bounds.judge on synthetic figures: each verdict where the figures make it certain.

Over 250 lines: one test per rule of bounds.py and per figure it reads (containers, the
engine, a silent service), each on its own synthetic cell.
"""

import pytest

from loadgen import bounds, budgets

SCENARIO = {"strategy": "gather", "concurrency": 50, "n": 10, "delay": 0.1, "warmup": 1.0}


def service(cpu_seconds=1.0, requests=100, in_flight=5, workers=1, lag=None, typical_lag=None):
    return {
        "processes": workers + 1,
        "workers": workers,
        "threads_peak": 20,
        "in_flight_peak": in_flight,
        "cpu_seconds": cpu_seconds,
        "requests": requests,
        "loop_lag_max_ms": lag,
        "loop_lag_median_ms": lag if typical_lag is None else typical_lag,
    }


def figures(rps=100.0, gateway=None, backend=None, loadgen_cpu=0.5, wall=10.0):
    return {
        "rps": rps,
        "window": wall - 1.0,
        "loadgen": {
            "cpu_seconds": loadgen_cpu,
            "wall_seconds": wall,
            "cpu_share": loadgen_cpu / wall,
            "saturated": loadgen_cpu / wall >= 0.85,
        },
        "services": {"gateway": gateway or service(), "backend": backend or service(requests=1000)},
    }


def environment(mode="asgi", cores=4, threads=10, **extra):
    server = {"server": "gunicorn" if mode == "wsgi" else "uvicorn", "workers": 1}
    server["threads"] = threads if mode == "wsgi" else None
    return {
        "server_mode": mode,
        "gateway": {"server": dict(server)},
        "backend": {"server": dict(server)},
        "loadgen": {"cpu_count": cores},
        **extra,
    }


def test_the_ideal_is_one_delay_for_concurrent_strategies_and_n_for_sequential():
    assert bounds.ideal(SCENARIO) == {"latency": 0.1, "rps": pytest.approx(500)}
    assert bounds.ideal({**SCENARIO, "strategy": "sequential"}) == {"latency": pytest.approx(1.0), "rps": 50}
    assert bounds.ideal({**SCENARIO, "strategy": "async-to-sync"})["latency"] == 0.1


def test_near_the_ideal_the_delay_is_the_bound():
    bound = bounds.judge(figures(rps=450.0), SCENARIO, environment())
    assert bound["bound_by"] == "the delay" and bound["clear"]
    assert bound["ideal"]["rps"] == pytest.approx(500)


def test_a_saturated_loadgen_beats_every_other_verdict():
    busy = figures(rps=450.0, gateway=service(cpu_seconds=10.0), loadgen_cpu=9.0)
    assert bounds.judge(busy, SCENARIO, environment())["bound_by"] == "loadgen"


def test_loadgen_saturation_is_per_process_with_several_workers():
    # Two processes at 60 % each: 1.2 cores in all, neither saturated.
    two = figures(rps=450.0, loadgen_cpu=12.0)
    two["loadgen"].update({"workers": 2, "busiest_share": 0.6, "saturated": False})
    assert bounds.judge(two, SCENARIO, environment())["bound_by"] == "the delay"
    two["loadgen"].update({"busiest_share": 0.9, "saturated": True})
    assert bounds.judge(two, SCENARIO, environment())["bound_by"] == "loadgen"


def test_a_service_at_85_percent_of_its_budget_is_the_cpu_bound():
    # One worker: a budget of one core, whatever the machine has.
    gateway = service(cpu_seconds=9.0)
    bound = bounds.judge(figures(rps=100.0, gateway=gateway), SCENARIO, environment(cores=4))
    assert bound["bound_by"] == "gateway CPU"
    assert bound["services"]["gateway"]["cpu"] == {"cores": 0.9, "budget": 1, "use": 0.9}
    backend = service(cpu_seconds=9.5, requests=1000)
    assert bounds.judge(figures(rps=100.0, backend=backend), SCENARIO, environment())["bound_by"] == "backend CPU"


def test_the_budget_is_min_of_workers_and_the_cores_the_service_may_use():
    seen = service(workers=4)
    assert budgets.budget_cores(seen, environment(cores=2), "gateway") == 2
    assert budgets.budget_cores(seen, environment(cores=8), "gateway") == 4
    limited = environment(cores=8, gateway={"server": {}, "cpu": {"cores": 1.5, "cpuset": None}})
    assert budgets.budget_cores(seen, limited, "gateway") == 1.5
    pinned = environment(cores=8, gateway={"server": {}, "cpu": {"cores": None, "cpuset": "0-2,5"}})
    assert budgets.budget_cores(seen, pinned, "gateway") == 4
    unlimited = environment(cores=8, machine={"cores": 3}, gateway={"server": {}, "cpu": {"cores": None}})
    assert budgets.budget_cores(seen, unlimited, "gateway") == 3


def test_a_busy_machine_blames_the_service_that_uses_most_of_it():
    # 2 cores: the gateway 0.8, the backend 0.6, loadgen 0.4 of them: 90 % busy, no one service at 85 %.
    busy = figures(
        rps=100.0,
        gateway=service(cpu_seconds=8.0),
        backend=service(cpu_seconds=6.0, requests=1000),
        loadgen_cpu=4.0,
    )
    bound = bounds.judge(busy, SCENARIO, environment(cores=2))
    assert bound["bound_by"] == "gateway CPU" and "2 cores were 90 % busy" in bound["reason"]
    assert bound["machine_busy"] == pytest.approx(0.9)


def test_full_wsgi_thread_pools_blame_the_backend_first():
    # Half of what the pools allow (10 threads: 10/s), so only their busy peaks speak.
    env = environment(mode="wsgi", threads=10)
    both = figures(rps=5.0, gateway=service(in_flight=10), backend=service(in_flight=10, requests=600))
    bound = bounds.judge(both, SCENARIO, env)
    assert bound["bound_by"] == "backend threads" and "10 of 10" in bound["reason"]
    only_gateway = figures(rps=5.0, gateway=service(in_flight=10), backend=service(in_flight=4, requests=600))
    assert bounds.judge(only_gateway, SCENARIO, env)["bound_by"] == "gateway threads"


def test_near_what_a_wsgi_pool_allows_the_pool_is_the_bound_whatever_the_cpu():
    # 10 backend threads, 10 calls of 0.1 s an aggregation: 10/s at most. The gateway's CPU
    # at 90 % of its core does not make it the bound: at 9.3/s the pool is full.
    env = environment(mode="wsgi", threads=10)
    near = figures(rps=9.3, gateway=service(cpu_seconds=9.0, in_flight=10), backend=service(in_flight=10))
    bound = bounds.judge(near, SCENARIO, env)
    assert (bound["bound_by"], bound["clear"]) == ("backend threads", True)
    assert "10 request threads allow 10.0/s; reached 93 %" in bound["reason"]


def test_a_gateway_pool_allows_one_aggregation_per_thread_per_latency_floor():
    # A backend with 4 workers x 10 threads allows 40/s; the gateway's 10 threads, each held
    # a delay per aggregation, allow 100/s at n = 1 and 10/s at n = 10 with sequential.
    env = environment(mode="wsgi", threads=10)
    env["backend"]["server"]["workers"] = 4
    scenario = {**SCENARIO, "strategy": "sequential"}
    bound = bounds.judge(figures(rps=9.0, gateway=service(in_flight=10)), scenario, env)
    assert bound["bound_by"] == "gateway threads" and "allow 10.0/s" in bound["reason"]
    assert bounds.pool_capacity("backend", 40, scenario) == pytest.approx(40)


def test_asgi_has_no_thread_pool_to_fill():
    bound = bounds.judge(figures(rps=60.0, backend=service(in_flight=500)), SCENARIO, environment())
    assert bound["services"]["backend"]["threads"] is None
    assert bound["bound_by"] != "backend threads"


def test_a_lagging_event_loop_is_the_bound():
    lagging = figures(rps=60.0, gateway=service(lag=120.0), backend=service(lag=3.0, requests=600))
    bound = bounds.judge(lagging, SCENARIO, environment())
    assert bound["bound_by"] == "event loop" and "gateway's event loop lagged 120 ms typically" in bound["reason"]


def test_one_long_lag_is_not_a_lagging_loop():
    # One 400 ms pause (a GC, a slow first call) in a run whose polls typically saw 5 ms.
    once = figures(rps=60.0, gateway=service(lag=400.0, typical_lag=5.0), backend=service(requests=600))
    bound = bounds.judge(once, SCENARIO, environment())
    assert bound["bound_by"] != "event loop" or not bound["clear"]
    assert bound["services"]["gateway"]["loop_lag_max_ms"] == 400.0


def test_the_cpu_split_is_per_aggregation_and_gateway_over_backend():
    split = bounds.judge(
        figures(gateway=service(cpu_seconds=3.0, requests=100), backend=service(cpu_seconds=10.0, requests=1000)),
        SCENARIO,
        environment(),
    )["cpu_split"]
    assert split == {"gateway_ms": 30.0, "backend_ms": 100.0, "gateway_over_backend": pytest.approx(0.3)}


def test_when_no_rule_holds_the_nearest_limit_is_named_and_not_clear():
    bound = bounds.judge(figures(rps=60.0, gateway=service(cpu_seconds=7.0)), SCENARIO, environment())
    assert (bound["bound_by"], bound["clear"]) == ("gateway CPU", False)
    assert bound["reason"].startswith("nothing at its limit; nearest:")


def test_each_budget_used_and_the_headroom_left_beside_the_ideal():
    # 100 aggregations for 1 + 1 + 0.5 CPU seconds: 25 ms each, so 4 cores allow 160/s, below the ideal 500/s.
    bound = bounds.judge(figures(rps=80.0), SCENARIO, environment(cores=4))
    assert bound["ceiling"]["cpu_per_aggregation"] == pytest.approx(0.025)
    assert bound["ceiling"]["rps"] == pytest.approx(160)
    assert bound["of_ideal"] == pytest.approx(80 / 500)
    # One worker each: a budget of one core, 1 CPU second over the 10 s run.
    assert bound["use"] == {"gateway": {"cpu": pytest.approx(0.1)}, "backend": {"cpu": pytest.approx(0.1)}}
    assert bound["headroom"] == {"gateway": pytest.approx(0.9), "backend": pytest.approx(0.9)}


def test_threads_and_the_call_budget_count_in_the_headroom():
    env = environment(mode="wsgi", cores=4, threads=10, gateway={"server": {"workers": 1, "threads": 10}})
    env["gateway"]["limits"] = {"calls": 40}
    gateway, backend = service(in_flight=8), service(requests=1000, in_flight=30)
    bound = bounds.judge(figures(rps=80.0, gateway=gateway, backend=backend), SCENARIO, env)
    assert bound["use"]["gateway"] == {"cpu": pytest.approx(0.1), "threads": 0.8, "calls": 0.75}
    assert bound["headroom"]["gateway"] == pytest.approx(0.2)


def test_figures_without_telemetry_still_get_a_verdict():
    bare = {"rps": 9.5, "window": 10.0, "loadgen": {"cpu_share": 0.05, "saturated": False}}
    bound = bounds.judge(bare, {**SCENARIO, "concurrency": 1}, {"loadgen": {"cpu_count": 2}})
    assert bound["bound_by"] == "the delay" and bound["ceiling"] is None
    assert bound["of_ideal"] == pytest.approx(0.95)


def test_a_saved_bound_is_kept_and_a_missing_one_judged():
    result = {"scenario": {**SCENARIO}, "environment": environment(), "cells": []}
    cell = {"strategy": "gather", "concurrency": 50, "figures": figures(rps=450.0)}
    assert bounds.of(cell, result)["bound_by"] == "the delay"
    assert bounds.of({**cell, "bound": {"bound_by": "loadgen"}}, result) == {"bound_by": "loadgen"}


def test_a_neighbour_that_fills_the_cores_is_named_not_blamed_on_a_service():
    # The lab's three used 37.5 % of the 2 cores; /proc/stat saw them 95 % busy.
    busy = figures(rps=60.0, gateway=service(cpu_seconds=5.0), backend=service(cpu_seconds=2.0, requests=1000))
    busy["machine"] = {"busy_share": 0.95, "steal_share": 0.0}
    bound = bounds.judge(busy, SCENARIO, environment(cores=2))
    assert bound["bound_by"] == "neighbours" and bound["clear"]
    assert "95 % busy, the lab's own 38 %" in bound["reason"]
    assert bound["neighbours"] == pytest.approx(0.95 - 0.375)
    assert bound["lab_busy"] == pytest.approx(0.375) and bound["machine_busy"] == pytest.approx(0.95)


def test_the_host_a_little_busier_than_the_lab_is_no_neighbour():
    # 7.5 % of the cores beyond the lab's own: under the 10 % rule, the busy machine is the lab's.
    busy = figures(rps=60.0, gateway=service(cpu_seconds=8.0), backend=service(cpu_seconds=8.0, requests=1000))
    busy["machine"] = {"busy_share": 0.9, "steal_share": 0.0}
    bound = bounds.judge(busy, SCENARIO, environment(cores=2))
    assert bound["bound_by"] == "gateway CPU" and bound["neighbours"] == pytest.approx(0.9 - 0.825)


def test_the_lab_is_its_containers_whole_cpu_where_every_part_reports_it():
    # The servers' processes and loadgen used 37.5 % of 2 cores, their containers (masters,
    # healthchecks, docker exec) 80 %: the host's 85 % is the lab's, no neighbour's.
    busy = figures(rps=60.0, gateway=service(cpu_seconds=5.0), backend=service(cpu_seconds=2.0, requests=1000))
    busy["services"]["gateway"]["container_cpu_seconds"] = 9.0
    busy["services"]["backend"]["container_cpu_seconds"] = 5.0
    busy["loadgen"]["window_container_cpu_seconds"] = 2.0
    busy["machine"] = {"busy_share": 0.85, "steal_share": 0.0}
    bound = bounds.judge(busy, SCENARIO, environment(cores=2))
    assert bound["lab_busy"] == pytest.approx(0.8) and bound["neighbours"] == pytest.approx(0.05)
    assert bound["bound_by"] != "neighbours"
    # One part without its container's figure: the processes for all three, never a mix.
    del busy["loadgen"]["window_container_cpu_seconds"]
    bound = bounds.judge(busy, SCENARIO, environment(cores=2))
    assert bound["lab_busy"] == pytest.approx(0.375) and bound["bound_by"] == "neighbours"


def test_the_engines_metered_work_for_the_lab_counts_as_the_labs():
    # Containers 70 % of 2 cores, the host 85 %: 15 % beyond them is a neighbour's, unless a
    # campaign metered 2 s of the engine's CPU for the lab over the 10 s (10 % of the cores).
    busy = figures(rps=60.0, gateway=service(cpu_seconds=5.0), backend=service(cpu_seconds=2.0, requests=1000))
    busy["services"]["gateway"]["container_cpu_seconds"] = 8.0
    busy["services"]["backend"]["container_cpu_seconds"] = 5.0
    busy["loadgen"]["window_container_cpu_seconds"] = 1.0
    busy["machine"] = {"busy_share": 0.85, "steal_share": 0.0}
    assert bounds.judge(busy, SCENARIO, environment(cores=2))["bound_by"] == "neighbours"
    busy["engine"] = {"cpu_seconds": 2.0}
    bound = bounds.judge(busy, SCENARIO, environment(cores=2))
    assert bound["lab_busy"] == pytest.approx(0.8) and bound["bound_by"] != "neighbours"
    busy["engine"] = {"cpu_seconds": None}  # not metered: as before
    assert bounds.judge(busy, SCENARIO, environment(cores=2))["lab_busy"] == pytest.approx(0.7)


def test_a_service_silent_across_the_window_is_named_never_a_neighbour():
    # The reference's resources cell: the gateway answered no poll (its CPU unknown, once
    # read as 0), the host 38 % busy, the lab "3 %": that was the lab's own overload.
    silent = figures(rps=0.0, gateway={**service(cpu_seconds=None, requests=None), "silent": True})
    silent["machine"] = {"busy_share": 0.38, "steal_share": 0.0}
    bound = bounds.judge(silent, SCENARIO, environment(cores=2))
    assert bound["bound_by"] == "gateway unresponsive" and bound["neighbours"] is None
    assert bound["bound_by"] in bounds.VERDICTS and "no telemetry poll" in bound["reason"]


def test_a_late_loadgen_loop_makes_loadgen_the_bound():
    late = figures(rps=450.0)
    late["loadgen"].update({"loop_lag_ms": {"median": 25.0, "max": 80.0}, "lagged": True})
    bound = bounds.judge(late, SCENARIO, environment())
    assert bound["bound_by"] == "loadgen" and "25 ms late" in bound["reason"]


def test_figures_read_over_the_window_are_divided_by_the_window():
    # Services read at the window's ends (they say so with "window"): 4.5 s of CPU over a 9 s window.
    gateway = {**service(cpu_seconds=4.5), "window": 9.0}
    timed = figures(rps=60.0, gateway=gateway, backend={**service(requests=1000), "window": 9.0})
    timed["loadgen"]["window_cpu_seconds"] = 0.9
    bound = bounds.judge(timed, SCENARIO, environment(cores=2))
    assert bound["window"] == 9.0
    assert bound["services"]["gateway"]["cpu"]["cores"] == pytest.approx(0.5)
    assert bound["lab_busy"] == pytest.approx((4.5 + 1.0 + 0.9) / 9.0 / 2)
